//! The outbox delivery worker. Each instance runs one: it claims due
//! messages with a lease (so one instance at a time sends each, and a
//! crashed instance's messages are picked up once its lease expires), POSTs
//! them signed to the target's webhook, and records every attempt. Failures
//! are retried with exponential backoff and jitter, up to a limit after
//! which the message is dead and visible to admins. Delivery is at least
//! once: receivers deduplicate on `X-Greenchannel-Delivery`.
use std::time::{Duration, Instant};

use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::Rng;
use sea_orm::ActiveValue::Set;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::watch;

use super::audit::{self, Subject};
use crate::{
    domain::principal::Actor,
    error::Result,
    state::AppState,
    store::{self, outbox::Row},
};

/// `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, as the contract specifies.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delay before attempt `attempt + 1`: base × 2^(attempt−1), ±20%, at most an hour.
pub fn backoff(base_ms: u64, attempt: i32) -> Duration {
    let exp = base_ms.saturating_mul(1u64 << (attempt.clamp(1, 20) - 1) as u32).min(3_600_000);
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::from_millis((exp as f64 * jitter) as u64)
}

struct Outcome {
    id: i64,
    attempt: i32,
    delivery_id: uuid::Uuid,
    status: Option<u16>,
    error: Option<String>,
    elapsed: Duration,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Where a message goes: the department's or platform's webhook.
async fn target(state: &AppState, m: &Row) -> Result<Option<(String, String)>> {
    let db = state.db.conn();
    Ok(match m.target_kind.as_str() {
        "department" => {
            store::notifications::department(db, &m.target_id).await?.and_then(|d| d.webhook_url.zip(d.webhook_secret))
        }
        "platform" => {
            store::events::platform(db, &m.target_id).await?.and_then(|p| p.webhook_url.zip(p.webhook_secret))
        }
        _ => None,
    })
}

async fn send(state: &AppState, client: &reqwest::Client, m: &Row) -> Outcome {
    let start = Instant::now();
    let attempt = m.attempts + 1;
    let mut out =
        Outcome { id: m.id, attempt, delivery_id: m.delivery_id, status: None, error: None, elapsed: Duration::ZERO };
    match target(state, m).await {
        Ok(Some((url, secret))) => {
            let t = Utc::now().timestamp();
            let r = client
                .post(&url)
                .header("Content-Type", "application/json")
                .header("X-Greenchannel-Signature", signature(&secret, t, &m.payload))
                .header("X-Greenchannel-Delivery", m.delivery_id.to_string())
                .header("X-Greenchannel-Event", &m.topic)
                .header("X-Greenchannel-Attempt", attempt.to_string())
                .body(m.payload.clone())
                .send()
                .await;
            match r {
                Ok(resp) => {
                    out.status = Some(resp.status().as_u16());
                    if !resp.status().is_success() {
                        out.error = Some(format!("HTTP {}", resp.status().as_u16()));
                    }
                }
                Err(e) => out.error = Some(format!("{e}")),
            }
        }
        Ok(None) => out.error = Some("no webhook configured for the target".into()),
        Err(e) => out.error = Some(format!("{e}")),
    }
    out.elapsed = start.elapsed();
    out
}

/// Records a batch's outcomes in one transaction: delivered, retried or dead,
/// each attempt in the attempts table and the audit trail.
async fn record(state: &AppState, instance: &str, outcomes: &[Outcome]) -> Result<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    let ok: Vec<i64> = outcomes.iter().filter(|o| o.ok()).map(|o| o.id).collect();
    store::outbox::delivered(&tx, instance, &ok, now).await?;
    for o in outcomes.iter().filter(|o| !o.ok()) {
        let retry_at = (o.attempt < state.settings.delivery_max_attempts).then(|| {
            now + chrono::Duration::from_std(backoff(state.settings.delivery_backoff_ms, o.attempt)).unwrap_or_default()
        });
        store::outbox::failed(&tx, instance, o.id, o.error.as_deref().unwrap_or("failed"), retry_at).await?;
    }
    let actor = Actor { role: "system", id: format!("delivery:{instance}"), channel: None };
    let attempts = outcomes
        .iter()
        .map(|o| entities::delivery_attempt::ActiveModel {
            id: Default::default(),
            outbox_id: Set(o.id),
            attempt: Set(o.attempt),
            instance: Set(instance.to_string()),
            attempted_at: Set(now),
            status_code: Set(o.status.map(i32::from)),
            error: Set(o.error.clone()),
            duration_ms: Set(o.elapsed.as_millis().min(i32::MAX as u128) as i32),
        })
        .collect();
    store::outbox::record_attempts(&tx, attempts).await?;
    for o in outcomes {
        let dead = !o.ok() && o.attempt >= state.settings.delivery_max_attempts;
        audit::record(
            &tx,
            now,
            &actor,
            if o.ok() {
                "delivery.succeeded"
            } else if dead {
                "delivery.dead"
            } else {
                "delivery.failed"
            },
            Subject { kind: "outbox", id: &o.id.to_string() },
            None,
            None,
            json!({ "delivery_id": o.delivery_id, "attempt": o.attempt, "status": o.status, "error": o.error }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One round: claim, send, record. Returns how many messages it handled.
pub async fn run_once(state: &AppState, client: &reqwest::Client, instance: &str) -> Result<usize> {
    let now = state.now();
    let lease = now + chrono::Duration::seconds(state.settings.delivery_lease_seconds);
    let batch = {
        let tx = state.db.write().await?;
        let rows = store::outbox::claim(&tx, instance, now, lease, state.settings.delivery_batch).await?;
        tx.commit().await?;
        rows
    };
    if batch.is_empty() {
        return Ok(0);
    }
    let outcomes = futures_util::future::join_all(batch.iter().map(|m| send(state, client, m))).await;
    record(state, instance, &outcomes).await?;
    Ok(outcomes.len())
}

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("greenchannel/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("HTTP client")
}

/// Runs until `stop` turns true. Sleeps until woken by a local commit or the
/// poll interval passes (for messages other instances queued or retries due).
pub async fn worker(state: AppState, mut stop: watch::Receiver<bool>) {
    let instance = format!("{}-{}", hostname(), uuid::Uuid::now_v7().simple());
    let client = client(Duration::from_secs(state.settings.delivery_timeout_seconds));
    tracing::info!(instance = %instance, "delivery worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        let handled = match run_once(&state, &client, &instance).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "delivery round failed");
                0
            }
        };
        if handled == 0 {
            tokio::select! {
                _ = state.db.outbox_queued() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
        }
    }
    tracing::info!(instance = %instance, "delivery worker stopped");
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231-style check against an independently computed value.
        let s = signature("secret-0123456789", 1_700_000_000, "{\"a\":1}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret-0123456789").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        assert_eq!(s, format!("t=1700000000,v1={}", hex::encode(mac.finalize().into_bytes())));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempt in 1..6 {
            let d = backoff(1000, attempt).as_millis() as f64;
            let base = 1000.0 * 2f64.powi(attempt - 1);
            assert!(d >= base * 0.79 && d <= base * 1.21, "{attempt}: {d}");
        }
        assert!(backoff(1000, 40) <= Duration::from_millis(3_600_000 * 12 / 10));
    }
}
