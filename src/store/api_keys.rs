//! Staff and integrator API keys, looked up by hash.
use chrono::{DateTime, Utc};
use entities::api_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use uuid::Uuid;

pub struct NewKey<'a> {
    pub id: Uuid,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub role: &'a str,
    pub name: &'a str,
    pub authority: Option<&'a str>,
    pub department_code: Option<&'a str>,
    pub platform_id: Option<&'a str>,
    pub host_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(db: &impl ConnectionTrait, k: NewKey<'_>) -> Result<(), DbErr> {
    let am = api_key::ActiveModel {
        id: Set(k.id),
        key_hash: Set(k.key_hash.to_string()),
        key_prefix: Set(k.key_prefix.to_string()),
        role: Set(k.role.to_string()),
        name: Set(k.name.to_string()),
        authority: Set(k.authority.map(str::to_string)),
        department_code: Set(k.department_code.map(str::to_string)),
        platform_id: Set(k.platform_id.map(str::to_string)),
        host_id: Set(k.host_id),

        created_at: Set(k.created_at),
        expires_at: Set(k.expires_at),
        revoked_at: Set(None),
    };
    api_key::Entity::insert(am).exec_without_returning(db).await.map(|_| ())
}

pub async fn find_live(
    db: &impl ConnectionTrait,
    key_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(Condition::any().add(api_key::Column::ExpiresAt.is_null()).add(api_key::Column::ExpiresAt.gt(now)))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find().order_by_asc(api_key::Column::CreatedAt).all(db).await
}

pub async fn revoke(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
