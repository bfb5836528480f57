//! E-commerce platforms: where their events are pushed, which enterprises
//! they watch, and the resumable feed of those enterprises' changes.
use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, Subject};
use crate::{
    domain::{FieldError, principal::Actor, uscc::Uscc},
    error::{Error, Result},
    state::AppState,
    store,
};

/// Most codes one request may add, remove or set.
pub const MAX_WATCH_CHANGE: usize = 20_000;

fn actor(platform: &str) -> Actor {
    Actor { role: "platform", id: platform.to_string(), channel: None }
}

/// Parses a list of codes, naming each bad one by index.
pub fn parse_codes(field: &str, codes: &[String]) -> Result<Vec<String>> {
    if codes.len() > MAX_WATCH_CHANGE {
        return Err(Error::validation(vec![
            FieldError::new(field, "too_many").with("max", MAX_WATCH_CHANGE.to_string()),
        ]));
    }
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        match Uscc::parse(c) {
            Ok(u) => out.push(u.to_string()),
            Err(e) if errors.len() < 20 => errors.push(e.under(&format!("{field}[{i}]"))),
            Err(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Sets where events are pushed; returns how many enterprises are watched.
pub async fn set_webhook(state: &AppState, platform: &str, url: &str, secret: &str) -> Result<u64> {
    let mut e = Vec::new();
    if url::Url::parse(url).map(|x| !matches!(x.scheme(), "http" | "https")).unwrap_or(true) {
        e.push(FieldError::new("url", "invalid_url"));
    }
    if secret.len() < 16 || secret.len() > 200 {
        e.push(FieldError::new("secret", "invalid_length").with("expected", "16..=200 bytes"));
    }
    if !e.is_empty() {
        return Err(Error::validation(e));
    }
    let now = state.now();
    let tx = state.db.write().await?;
    store::events::upsert_platform(&tx, platform, Some(url), Some(secret), now).await?;
    audit::record(
        &tx,
        now,
        &actor(platform),
        "platform.webhook_set",
        Subject { kind: "platform", id: platform },
        None,
        None,
        json!({ "url": url }),
    )
    .await?;
    let n = store::events::watchlist_len(&tx, platform).await?;
    tx.commit().await?;
    Ok(n)
}

/// Replaces the watch-list (`replace`), or adds and removes codes.
pub async fn change_watchlist(
    state: &AppState,
    platform: &str,
    replace: Option<Vec<String>>,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<u64> {
    let now = state.now();
    let tx = state.db.write().await?;
    // The platform row exists before its watch-list (and gets webhooks later).
    if store::events::platform(&tx, platform).await?.is_none() {
        store::events::upsert_platform(&tx, platform, None, None, now).await?;
    }
    let detail = match &replace {
        Some(all) => {
            store::events::replace_watchlist(&tx, platform, all, now).await?;
            json!({ "replaced": all.len() })
        }
        None => {
            store::events::patch_watchlist(&tx, platform, &add, &remove, now).await?;
            json!({ "added": add.len(), "removed": remove.len() })
        }
    };
    let n = store::events::watchlist_len(&tx, platform).await?;
    audit::record(
        &tx,
        now,
        &actor(platform),
        "platform.watchlist_changed",
        Subject { kind: "platform", id: platform },
        None,
        None,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

pub struct Event {
    pub cursor: String,
    pub uscc: String,
    pub kind: String,
    pub detail: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// A position in the feed: `"<txid>.<seq>"`, opaque to clients.
pub fn cursor_text(txid: i64, seq: i64) -> String {
    format!("{txid}.{seq}")
}

pub fn parse_cursor(c: &str) -> Option<(i64, i64)> {
    let (a, b) = c.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The watched enterprises' events after `after`, oldest first.
pub async fn events(state: &AppState, platform: &str, after: (i64, i64), limit: u64) -> Result<Vec<Event>> {
    let rows = store::events::after(state.db.conn(), Some(platform), after, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            cursor: cursor_text(r.txid, r.seq),
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            uscc: r.uscc,
            kind: r.kind,
            occurred_at: r.occurred_at,
        })
        .collect())
}
