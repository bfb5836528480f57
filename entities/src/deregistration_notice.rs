//! Public notices of simplified deregistration (简易注销公告).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deregistration_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub enterprise_id: Uuid,
    pub uscc: String,
    pub name: Option<String>,
    pub entity_type: String,
    pub authority: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// `open`, `objected`, `closed` (deregistered or withdrawn).
    pub status: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
