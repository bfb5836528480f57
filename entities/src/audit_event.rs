//! The audit trail: one row per state change, written in the same transaction.
//! Rows are never updated; their places in the tamper-evidence hash chain
//! are in `audit_links` (see `greenchannel::domain::audit_chain`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    /// `applicant`, `reviewer`, `department`, `platform`, `admin`, `system`, `public`.
    pub actor_role: String,
    pub actor_id: String,
    pub channel: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_version: Option<i32>,
    pub after_version: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
