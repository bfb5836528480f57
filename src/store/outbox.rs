//! The transactional outbox and its delivery bookkeeping. Messages are
//! claimed with a lease so one instance at a time sends each; a crashed
//! instance's lease expires and another picks the message up.
use chrono::{DateTime, Utc};
use entities::{delivery_attempt, outbox_message};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Statement,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::WriteTx;

pub use entities::{delivery_attempt::Model as AttemptRow, outbox_message::Model as Row};

pub struct NewMessage {
    pub topic: String,
    pub target_kind: &'static str,
    pub target_id: String,
    pub payload: String,
}

/// Queues messages in the caller's transaction; its commit wakes the local
/// delivery worker.
pub async fn enqueue(db: &WriteTx, messages: Vec<NewMessage>, now: DateTime<Utc>) -> Result<(), DbErr> {
    if messages.is_empty() {
        return Ok(());
    }
    db.queued_outbox();
    let rows = messages.into_iter().map(|m| outbox_message::ActiveModel {
        id: Default::default(),
        delivery_id: Set(Uuid::now_v7()),
        topic: Set(m.topic),
        target_kind: Set(m.target_kind.into()),
        target_id: Set(m.target_id),
        payload: Set(m.payload),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_by: Set(None),
        claim_expires_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    });
    let rows: Vec<outbox_message::ActiveModel> = rows.collect();
    // Bounded statement size (SQLite allows 32 766 bound values).
    for chunk in rows.chunks(500) {
        outbox_message::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Claims up to `limit` due messages for `instance` until `lease_until`.
/// PostgreSQL skips rows other instances hold (`FOR UPDATE SKIP LOCKED`);
/// SQLite has one writer.
pub async fn claim(
    db: &impl ConnectionTrait,
    instance: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE outbox SET claimed_by = $1, claim_expires_at = $2 WHERE id IN (
               SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $3
                 AND (claim_expires_at IS NULL OR claim_expires_at < $3)
               ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING *"
        }
        _ => {
            "UPDATE outbox SET claimed_by = ?1, claim_expires_at = ?2 WHERE id IN (
               SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?3
                 AND (claim_expires_at IS NULL OR claim_expires_at < ?3)
               ORDER BY id LIMIT ?4)
             RETURNING *"
        }
    };
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [instance.into(), lease_until.into(), now.into(), (limit as i64).into()],
    );
    let rows = db.query_all_raw(stmt).await?;
    let mut out: Vec<Row> = rows.iter().map(|r| Row::from_query_result(r, "")).collect::<Result<_, _>>()?;
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// Marks messages delivered, if this instance still holds them.
pub async fn delivered(
    db: &impl ConnectionTrait,
    instance: &str,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let r = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Status, Expr::value("delivered"))
        .col_expr(outbox_message::Column::DeliveredAt, Expr::value(now))
        .col_expr(outbox_message::Column::Attempts, Expr::col(outbox_message::Column::Attempts).add(1))
        .col_expr(outbox_message::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(outbox_message::Column::ClaimExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox_message::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox_message::Column::ClaimedBy.eq(instance))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Records a failed attempt: retried at `retry_at`, or dead when `None`.
pub async fn failed(
    db: &impl ConnectionTrait,
    instance: &str,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<u64, DbErr> {
    let mut q = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Attempts, Expr::col(outbox_message::Column::Attempts).add(1))
        .col_expr(outbox_message::Column::LastError, Expr::value(error))
        .col_expr(outbox_message::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(outbox_message::Column::ClaimExpiresAt, Expr::value(Option::<DateTime<Utc>>::None));
    q = match retry_at {
        Some(t) => q.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(t)),
        None => q.col_expr(outbox_message::Column::Status, Expr::value("dead")),
    };
    let r = q
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::ClaimedBy.eq(instance))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

pub async fn record_attempts(db: &impl ConnectionTrait, rows: Vec<delivery_attempt::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    delivery_attempt::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}

pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let mut q = outbox_message::Entity::find();
    if let Some(s) = status {
        q = q.filter(outbox_message::Column::Status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(outbox_message::Column::Id.gt(a));
    }
    q.order_by_asc(outbox_message::Column::Id).limit(limit).all(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Row>, DbErr> {
    outbox_message::Entity::find_by_id(id).one(db).await
}

pub async fn attempts(db: &impl ConnectionTrait, outbox_id: i64) -> Result<Vec<AttemptRow>, DbErr> {
    delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::OutboxId.eq(outbox_id))
        .order_by_asc(delivery_attempt::Column::Id)
        .all(db)
        .await
}

/// An admin retry of a dead message: a fresh cycle of attempts.
pub async fn retry(db: &WriteTx, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Status, Expr::value("pending"))
        .col_expr(outbox_message::Column::Attempts, Expr::value(0))
        .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::Status.eq("dead"))
        .exec(db)
        .await?;
    if r.rows_affected > 0 {
        db.queued_outbox();
    }
    Ok(r.rows_affected > 0)
}
