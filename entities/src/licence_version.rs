//! Every business licence ever issued: a version is immutable once written.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "licence_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub version: i32,
    /// JSON: exactly what the licence prints.
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub issued_at: DateTimeUtc,
    pub application_id: Option<Uuid>,
    pub superseded_at: Option<DateTimeUtc>,
    /// The key its credentials are signed with (fixed at issue, so its
    /// documents stay byte-identical across key rotations).
    pub signing_kid: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
