//! The change feed: licence re-issues, status changes, abnormal flags and
//! permit changes, in commit order, for platforms and verification caches.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprise_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// PostgreSQL: the writing transaction's id, so readers can page in
    /// commit-safe order (see `store::events`). SQLite: 0 (one writer).
    pub txid: i64,
    pub uscc: String,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
