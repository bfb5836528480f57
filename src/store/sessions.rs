//! Applicant sessions, looked up by the hash of their bearer token.
use chrono::{DateTime, Utc};
use entities::session;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Statement,
    sea_query::Expr,
};
use uuid::Uuid;

pub struct NewSession<'a> {
    pub id: Uuid,
    pub token_hash: &'a str,
    pub channel_id: &'a str,
    pub subject: &'a str,
    pub id_number: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The insert, for a batch.
pub fn insert(backend: DbBackend, s: NewSession<'_>) -> Statement {
    let am = session::ActiveModel {
        id: Set(s.id),
        token_hash: Set(s.token_hash.to_string()),
        channel_id: Set(s.channel_id.to_string()),
        subject: Set(s.subject.to_string()),
        id_number: Set(s.id_number.to_string()),
        name: Set(s.name.to_string()),
        phone: Set(s.phone.map(str::to_string)),
        created_at: Set(s.created_at),
        expires_at: Set(s.expires_at),
        revoked_at: Set(None),
    };
    session::Entity::insert(am).build(backend)
}

/// A session that is neither revoked nor expired at `now`.
pub async fn find_live(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

pub async fn revoke(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
