//! The transactional outbox: messages written with the change that causes
//! them, delivered after commit by a worker that claims them with a lease.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Sent as `X-Greenchannel-Delivery`: receivers deduplicate on it.
    #[sea_orm(unique)]
    pub delivery_id: Uuid,
    pub topic: String,
    /// `department` or `platform`.
    pub target_kind: String,
    pub target_id: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// `pending`, `delivered`, `dead`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The instance delivering it, until `claim_expires_at`.
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
