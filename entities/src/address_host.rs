//! E-commerce parks, incubators and cluster-registration hosts: one address,
//! many numbered places for the businesses they host.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "address_hosts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub address_id: Uuid,
    pub capacity: i32,
    /// JSON list of entity types accepted; empty means all.
    #[sea_orm(column_type = "Text")]
    pub entity_types: String,
    /// JSON list of scope-code prefixes accepted ("G1", "G20"); empty means all.
    #[sea_orm(column_type = "Text")]
    pub industries: String,
    /// `active` or `closed`.
    pub status: String,
    pub contact: Option<String>,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
