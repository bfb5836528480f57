//! Registered mobile channels and the assertion ids they have used.
use chrono::{DateTime, Utc};
use entities::{channel, used_assertion};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Statement,
};

pub async fn find_enabled(db: &impl ConnectionTrait, id: &str) -> Result<Option<channel::Model>, DbErr> {
    channel::Entity::find_by_id(id.to_string()).filter(channel::Column::DisabledAt.is_null()).one(db).await
}

pub async fn upsert(
    db: &impl ConnectionTrait,
    id: &str,
    name: &str,
    algorithm: &str,
    key_material: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let am = channel::ActiveModel {
        id: Set(id.to_string()),
        name: Set(name.to_string()),
        algorithm: Set(algorithm.to_string()),
        key_material: Set(key_material.to_string()),
        created_at: Set(now),
        disabled_at: Set(None),
    };
    channel::Entity::insert(am)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(channel::Column::Id)
                .update_columns([
                    channel::Column::Name,
                    channel::Column::Algorithm,
                    channel::Column::KeyMaterial,
                    channel::Column::DisabledAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<channel::Model>, DbErr> {
    channel::Entity::find().all(db).await
}

/// Records a `jti` as used (for a batch); a unique violation means it was
/// used before.
pub fn use_assertion(backend: DbBackend, channel_id: &str, jti: &str, expires_at: DateTime<Utc>) -> Statement {
    let am = used_assertion::ActiveModel {
        channel_id: Set(channel_id.to_string()),
        jti: Set(jti.to_string()),
        expires_at: Set(expires_at),
    };
    used_assertion::Entity::insert(am).build(backend)
}

/// Forgets `jti`s whose assertions have expired anyway.
pub async fn purge_used_assertions(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    used_assertion::Entity::delete_many()
        .filter(used_assertion::Column::ExpiresAt.lt(before))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
