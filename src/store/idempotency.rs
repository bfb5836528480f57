//! Remembered responses for `Idempotency-Key`.
use chrono::{DateTime, Utc};
use entities::idempotency_key;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryTrait};

use super::WriteTx;

pub async fn find(
    db: &impl ConnectionTrait,
    principal: &str,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    idempotency_key::Entity::find_by_id((principal.to_string(), key.to_string())).one(db).await
}

/// Deferred ([`WriteTx::defer`]): a key already taken fails the commit, and
/// the caller answers from the stored response either way.
pub async fn insert(
    db: &WriteTx,
    principal: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let am = idempotency_key::ActiveModel {
        principal: Set(principal.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status: Set(i32::from(status)),
        body: Set(body.to_string()),
        created_at: Set(now),
    };
    db.defer(idempotency_key::Entity::insert(am).build(db.get_database_backend())).await
}
