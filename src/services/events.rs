//! Enterprise change events: written in the transaction of the change,
//! read by platforms from a resumable feed, pushed to the webhooks of the
//! platforms watching, and used to invalidate verification caches.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{
    domain::notification::PermitStatus,
    error::Result,
    store::{self, WriteTx, outbox::NewMessage},
};

pub const LICENCE_REISSUED: &str = "licence.reissued";
pub const STATUS_CHANGED: &str = "status.changed";
pub const ABNORMAL_CHANGED: &str = "abnormal.changed";
pub const PERMIT_CHANGED: &str = "permit.changed";

/// Records an event and queues a push to each watching platform's webhook.
pub async fn record(tx: &WriteTx, uscc: &str, kind: &str, detail: Value, now: DateTime<Utc>) -> Result<()> {
    store::events::insert(tx, uscc, kind, &detail, now).await?;
    tx.touch(uscc);
    let targets = store::events::push_targets(tx, uscc).await?;
    let messages = targets
        .into_iter()
        .map(|p| NewMessage {
            topic: format!("enterprise.{kind}"),
            target_kind: "platform",
            target_id: p.id,
            payload: json!({ "uscc": uscc, "kind": kind, "detail": detail, "occurred_at": now }).to_string(),
        })
        .collect();
    store::outbox::enqueue(tx, messages, now).await?;
    Ok(())
}

pub async fn permit_changed(
    tx: &WriteTx,
    uscc: &str,
    scope_code: &str,
    status: PermitStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    record(tx, uscc, PERMIT_CHANGED, json!({ "scope": scope_code, "permit_status": status.as_str() }), now).await
}
