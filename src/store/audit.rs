//! The audit trail. Events are queued on the write transaction and inserted
//! together right before it commits (see [`super::WriteTx`]).
use chrono::{DateTime, Utc};
use entities::audit_event;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    Statement,
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

/// Where a use case's audit events wait until they commit with it.
pub trait AuditLog {
    fn audit(&self, event: audit_event::ActiveModel);
}

impl AuditLog for WriteTx {
    fn audit(&self, event: audit_event::ActiveModel) {
        WriteTx::audit(self, event)
    }
}

pub fn record(tx: &impl AuditLog, e: Event<'_>) {
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
    });
}

/// Inserts a transaction's events and queues them for sealing
/// (`audit_pending`) in the same statement: on PostgreSQL a data-modifying
/// `WITH`, on SQLite the insert trigger.
pub(super) async fn insert_many(db: &impl ConnectionTrait, events: Vec<audit_event::ActiveModel>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let insert = audit_event::Entity::insert_many(events);
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let Statement { sql, values, db_backend } = insert.build(DbBackend::Postgres);
            let sql = format!("WITH e AS ({sql} RETURNING id) INSERT INTO audit_pending (event_id) SELECT id FROM e");
            db.execute_raw(Statement { sql, values, db_backend }).await.map(|_| ())
        }
        _ => insert.exec_without_returning(db).await.map(|_| ()),
    }
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

/// Ids of events not yet sealed (queued as they were inserted), oldest
/// first.
pub async fn pending(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!("SELECT event_id FROM audit_pending ORDER BY event_id LIMIT {limit}");
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    rows.iter().map(|r| r.try_get::<i64>("", "event_id")).collect()
}

/// The events with these ids, by id.
pub async fn events(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<audit_event::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    audit_event::Entity::find()
        .filter(audit_event::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
}

/// Which of these events already have a link.
pub async fn linked(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<i64>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!("SELECT event_id FROM audit_links WHERE event_id IN ({})", list.join(", "));
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    rows.iter().map(|r| r.try_get::<i64>("", "event_id")).collect()
}

/// Events without a link, counted from the events themselves (not from the
/// queue, which someone with write access could empty). A full anti-join:
/// for the offline walk, not for the hot path.
pub async fn unsealed_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM audit_events e \
             WHERE NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.id)",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// Events with neither a link nor a place in the queue. The service never
/// leaves one (an event is queued by the statement that inserts it and
/// leaves the queue in the transaction that links it), so any are events
/// written around it or taken off the queue.
pub async fn unqueued_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n {UNQUEUED}")))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// Queues the [`unqueued_count`] events, so the sealer appends them.
pub async fn queue_unqueued(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let sql = format!("INSERT INTO audit_pending (event_id) SELECT e.id {UNQUEUED}");
    Ok(db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await?.rows_affected())
}

const UNQUEUED: &str = "FROM audit_events e \
     WHERE NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.id) \
     AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.event_id = e.id)";

/// One link of the chain: its place, the event it seals and its hash.
pub struct Link {
    pub seq: i64,
    pub event_id: i64,
    pub hash: String,
}

/// Links after `after_seq`, in chain order.
pub async fn links_after(db: &impl ConnectionTrait, after_seq: i64, limit: u64) -> Result<Vec<Link>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!("SELECT seq, event_id, hash FROM audit_links WHERE seq > {after_seq} ORDER BY seq LIMIT {limit}");
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    rows.iter()
        .map(|r| {
            Ok(Link { seq: r.try_get("", "seq")?, event_id: r.try_get("", "event_id")?, hash: r.try_get("", "hash")? })
        })
        .collect()
}

/// Appends links, takes the events they seal (and any `gone` ids, queued
/// events that no longer exist) off the queue, and moves the head: one
/// transaction, so the chain, the queue and the head agree. Values are
/// integers and hex digests made here, so they are inlined.
pub async fn seal(tx: &WriteTx, links: &[Link], gone: &[i64], at: DateTime<Utc>) -> Result<(), DbErr> {
    debug_assert!(links.iter().all(|l| l.hash.bytes().all(|b| b.is_ascii_hexdigit())));
    let backend = tx.get_database_backend();
    let ids: Vec<String> =
        links.iter().map(|l| l.event_id).chain(gone.iter().copied()).map(|i| i.to_string()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    if !links.is_empty() {
        let values: Vec<String> = links.iter().map(|l| format!("({}, {}, '{}')", l.seq, l.event_id, l.hash)).collect();
        tx.execute_raw(Statement::from_string(
            backend,
            format!("INSERT INTO audit_links (seq, event_id, hash) VALUES {}", values.join(", ")),
        ))
        .await?;
    }
    tx.execute_raw(Statement::from_string(
        backend,
        format!("DELETE FROM audit_pending WHERE event_id IN ({})", ids.join(", ")),
    ))
    .await?;
    if let Some(head) = links.last() {
        set_chain_head(tx, head.seq, &head.hash, at).await?;
    }
    Ok(())
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
