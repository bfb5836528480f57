//! Remembered responses for `Idempotency-Key`.
use chrono::{DateTime, Utc};
use entities::idempotency_key;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

pub async fn find(
    db: &impl ConnectionTrait,
    principal: &str,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    idempotency_key::Entity::find_by_id((principal.to_string(), key.to_string())).one(db).await
}

pub async fn insert(
    db: &impl ConnectionTrait,
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
    idempotency_key::Entity::insert(am).exec_without_returning(db).await.map(|_| ())
}
