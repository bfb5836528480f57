//! The enterprise change feed, platforms and their watch-lists.
//!
//! Paging is commit-safe: on PostgreSQL, sequence numbers are taken when a
//! row is inserted, not when its transaction commits, so a reader that
//! follows `seq` alone could pass over a row that commits later with a lower
//! number. Each row records its transaction id; readers page by
//! `(txid, seq)` and only up to the oldest transaction still running
//! (`pg_snapshot_xmin`), below which nothing can appear any more.
use chrono::{DateTime, Utc};
use entities::{enterprise_event, platform, watch};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Statement, sea_query::OnConflict,
};

pub use entities::{enterprise_event::Model as Row, platform::Model as PlatformRow};

pub async fn insert(
    db: &impl ConnectionTrait,
    uscc: &str,
    kind: &str,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let am = enterprise_event::ActiveModel {
        seq: Default::default(),
        txid: Default::default(),
        uscc: Set(uscc.to_string()),
        kind: Set(kind.to_string()),
        detail: Set(detail.to_string()),
        occurred_at: Set(now),
    };
    enterprise_event::Entity::insert(am).exec_without_returning(db).await.map(|_| ())
}

/// The feed after `(txid, seq)`, for one platform's watch-list or for
/// everyone (`platform: None`, for cache invalidation).
pub async fn after(
    db: &impl ConnectionTrait,
    platform: Option<&str>,
    cursor: (i64, i64),
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let backend = db.get_database_backend();
    let (join, safe, p) = match backend {
        DbBackend::Postgres => (
            "JOIN platform_watchlist w ON w.uscc = e.uscc AND w.platform_id = $4",
            "AND e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            ["$1", "$2", "$3"],
        ),
        _ => ("JOIN platform_watchlist w ON w.uscc = e.uscc AND w.platform_id = ?4", "", ["?1", "?2", "?3"]),
    };
    let join = if platform.is_some() { join } else { "" };
    let sql = format!(
        "SELECT e.seq, e.txid, e.uscc, e.kind, e.detail, e.occurred_at FROM enterprise_events e {join}
         WHERE (e.txid > {a} OR (e.txid = {a} AND e.seq > {b})) {safe}
         ORDER BY e.txid, e.seq LIMIT {c}",
        a = p[0],
        b = p[1],
        c = p[2]
    );
    let mut values: Vec<sea_orm::Value> = vec![cursor.0.into(), cursor.1.into(), (limit as i64).into()];
    if let Some(pl) = platform {
        values.push(pl.into());
    }
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    rows.iter().map(|r| Row::from_query_result(r, "")).collect()
}

pub async fn upsert_platform(
    db: &impl ConnectionTrait,
    id: &str,
    url: Option<&str>,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let am = platform::ActiveModel {
        id: Set(id.to_string()),
        webhook_url: Set(url.map(str::to_string)),
        webhook_secret: Set(secret.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    platform::Entity::insert(am)
        .on_conflict(
            OnConflict::column(platform::Column::Id)
                .update_columns([
                    platform::Column::WebhookUrl,
                    platform::Column::WebhookSecret,
                    platform::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn platform(db: &impl ConnectionTrait, id: &str) -> Result<Option<PlatformRow>, DbErr> {
    platform::Entity::find_by_id(id.to_string()).one(db).await
}

/// Platforms watching `uscc` that want pushes.
pub async fn push_targets(db: &impl ConnectionTrait, uscc: &str) -> Result<Vec<PlatformRow>, DbErr> {
    let ids: Vec<String> = watch::Entity::find()
        .filter(watch::Column::Uscc.eq(uscc))
        .all(db)
        .await?
        .into_iter()
        .map(|w| w.platform_id)
        .collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    platform::Entity::find()
        .filter(platform::Column::Id.is_in(ids))
        .filter(platform::Column::WebhookUrl.is_not_null())
        .all(db)
        .await
}

/// Replaces a platform's watch-list.
pub async fn replace_watchlist(
    db: &impl ConnectionTrait,
    platform_id: &str,
    usccs: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    watch::Entity::delete_many().filter(watch::Column::PlatformId.eq(platform_id)).exec(db).await?;
    for chunk in usccs.chunks(500) {
        let rows = chunk.iter().map(|u| watch::ActiveModel {
            platform_id: Set(platform_id.to_string()),
            uscc: Set(u.clone()),
            added_at: Set(now),
        });
        watch::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

pub async fn watchlist(db: &impl ConnectionTrait, platform_id: &str) -> Result<Vec<String>, DbErr> {
    Ok(watch::Entity::find()
        .filter(watch::Column::PlatformId.eq(platform_id))
        .all(db)
        .await?
        .into_iter()
        .map(|w| w.uscc)
        .collect())
}

/// A cursor at the end of the feed as far as it is complete: every event
/// after it is yet to be read. On PostgreSQL, transactions still running
/// (ids from `pg_snapshot_xmin` up) may yet commit events, so the cursor
/// stops just below them.
pub async fn horizon(db: &impl ConnectionTrait) -> Result<(i64, i64), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1 AS txid, 9223372036854775807 AS seq"
        }
        _ => "SELECT 0 AS txid, COALESCE(MAX(seq), 0) AS seq FROM enterprise_events",
    };
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await?;
    Ok(match row {
        Some(r) => (r.try_get("", "txid")?, r.try_get("", "seq")?),
        None => (0, 0),
    })
}

/// Adds to and removes from a platform's watch-list.
pub async fn patch_watchlist(
    db: &impl ConnectionTrait,
    platform_id: &str,
    add: &[String],
    remove: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in remove.chunks(500) {
        watch::Entity::delete_many()
            .filter(watch::Column::PlatformId.eq(platform_id))
            .filter(watch::Column::Uscc.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    for chunk in add.chunks(500) {
        let rows = chunk.iter().map(|u| watch::ActiveModel {
            platform_id: Set(platform_id.to_string()),
            uscc: Set(u.clone()),
            added_at: Set(now),
        });
        watch::Entity::insert_many(rows)
            .on_conflict(OnConflict::columns([watch::Column::PlatformId, watch::Column::Uscc]).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn watchlist_len(db: &impl ConnectionTrait, platform_id: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    watch::Entity::find().filter(watch::Column::PlatformId.eq(platform_id)).count(db).await
}
