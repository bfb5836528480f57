//! Who is registered at a place: reserved by a submitted application, active
//! for an enterprise, ended when it moves or ends.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "occupancies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub address_id: Uuid,
    pub host_id: Option<Uuid>,
    pub unit_no: Option<i32>,
    pub enterprise_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    /// `domicile` or `premises`.
    pub role: String,
    /// `reserved`, `active` or `ended`.
    pub state: String,
    pub residence: bool,
    pub confirmed_at: Option<DateTimeUtc>,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
