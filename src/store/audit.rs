//! The audit trail. Events are queued on the write transaction and inserted
//! together right before it commits (see [`super::WriteTx`]).
use chrono::{DateTime, Utc};
use entities::audit_event;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use super::WriteTx;
use crate::domain::principal::Actor;

pub struct Event<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before_version: Option<i32>,
    pub after_version: Option<i32>,
    pub detail: serde_json::Value,
}

pub fn record(tx: &WriteTx, e: Event<'_>) {
    tx.audit(audit_event::ActiveModel {
        id: Default::default(),
        occurred_at: Set(e.at),
        actor_role: Set(e.actor.role.to_string()),
        actor_id: Set(e.actor.id.clone()),
        channel: Set(e.actor.channel.clone()),
        action: Set(e.action.to_string()),
        subject_type: Set(e.subject_type.to_string()),
        subject_id: Set(e.subject_id.to_string()),
        before_version: Set(e.before_version),
        after_version: Set(e.after_version),
        detail: Set(e.detail.to_string()),
        chain_seq: Set(None),
        chain_hash: Set(None),
    });
}

pub(super) async fn insert_many(db: &impl ConnectionTrait, events: Vec<audit_event::ActiveModel>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    audit_event::Entity::insert_many(events).exec_without_returning(db).await.map(|_| ())
}

pub async fn for_subject(
    db: &impl ConnectionTrait,
    subject_type: &str,
    subject_id: &str,
) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::SubjectType.eq(subject_type))
        .filter(audit_event::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
}

/// The chain's head: the last sealed link. `lock` takes it for update on
/// PostgreSQL so concurrent sealers (one per instance) take turns; SQLite
/// write transactions are exclusive already.
pub async fn chain_head(db: &impl ConnectionTrait, lock: bool) -> Result<(i64, String), DbErr> {
    let backend = db.get_database_backend();
    let sql = if lock && backend == DbBackend::Postgres {
        "SELECT seq, hash FROM audit_chain WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, hash FROM audit_chain WHERE id = 1"
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_chain head".into()))?;
    Ok((row.try_get("", "seq")?, row.try_get("", "hash")?))
}

/// Events not yet sealed, oldest id first.
pub async fn unsealed(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChainSeq.is_null())
        .order_by_asc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn unsealed_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    audit_event::Entity::find().filter(audit_event::Column::ChainSeq.is_null()).count(db).await
}

/// Sealed events after `after_seq`, in chain order.
pub async fn sealed_after(
    db: &impl ConnectionTrait,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChainSeq.gt(after_seq))
        .order_by_asc(audit_event::Column::ChainSeq)
        .limit(limit)
        .all(db)
        .await
}

/// Records `(id, seq, hash)` links in one statement and moves the head.
/// Values are integers and hex digests made here, so they are inlined.
pub async fn seal(tx: &WriteTx, links: &[(i64, i64, String)], at: DateTime<Utc>) -> Result<(), DbErr> {
    let Some((_, head_seq, head_hash)) = links.last() else { return Ok(()) };
    debug_assert!(links.iter().all(|(_, _, h)| h.bytes().all(|b| b.is_ascii_hexdigit())));
    let values: Vec<String> = links.iter().map(|(id, seq, hash)| format!("({id}, {seq}, '{hash}')")).collect();
    let backend = tx.get_database_backend();
    tx.execute_raw(Statement::from_string(
        backend,
        format!(
            "WITH v(id, seq, hash) AS (VALUES {}) \
             UPDATE audit_events SET chain_seq = v.seq, chain_hash = v.hash FROM v WHERE audit_events.id = v.id",
            values.join(", ")
        ),
    ))
    .await?;
    set_chain_head(tx, *head_seq, head_hash, at).await
}

async fn set_chain_head(tx: &WriteTx, seq: i64, hash: &str, at: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE audit_chain SET seq = $1, hash = $2, sealed_at = $3 WHERE id = 1",
        _ => "UPDATE audit_chain SET seq = ?, hash = ?, sealed_at = ? WHERE id = 1",
    };
    tx.execute_raw(Statement::from_sql_and_values(backend, sql, [seq.into(), hash.into(), at.into()])).await?;
    Ok(())
}
