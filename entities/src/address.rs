//! Places, shared by every enterprise registered at them. One row per
//! canonical (township, detail); a hosted place's numbered sub-addresses
//! point at the host's address.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_code: String,
    pub county_code: String,
    /// As first written.
    pub detail: String,
    /// What matching compares (see `domain::address`).
    pub canonical: String,
    pub parent_id: Option<Uuid>,
    pub unit_no: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
