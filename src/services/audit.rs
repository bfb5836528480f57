//! Recording audit events from services: queued on the write transaction,
//! written with it.
use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::{
    domain::{audit_chain, principal::Actor},
    store,
};

pub struct Subject<'a> {
    pub kind: &'a str,
    pub id: &'a str,
}

#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &impl store::audit::AuditLog,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    subject: Subject<'_>,
    before_version: Option<i32>,
    after_version: Option<i32>,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    store::audit::record(
        tx,
        store::audit::Event {
            at,
            actor,
            action,
            subject_type: subject.kind,
            subject_id: subject.id,
            before_version,
            after_version,
            detail,
        },
    );
    Ok(())
}

/// Seals every committed, unsealed event into the hash chain, a page per
/// transaction. Returns how many were sealed.
pub async fn seal_pending(db: &store::Db, now: DateTime<Utc>) -> Result<u64, DbErr> {
    const PAGE: u64 = 1_000;
    let mut sealed = 0;
    // An idle instance checks with a read, not by taking the writer's turn
    // (SQLite) or the head's row lock (PostgreSQL) every tick.
    if store::audit::pending(db.conn(), 1).await?.is_empty() {
        return Ok(0);
    }
    loop {
        let tx = db.write().await?;
        let (seq, hash) = store::audit::chain_head(&tx, true).await?;
        let ids = store::audit::pending(&tx, PAGE).await?;
        if ids.is_empty() {
            return Ok(sealed);
        }
        // Only a direct edit of the database queues an event that is gone
        // or one already sealed (deleted and put back): such ids leave the
        // queue unsealed, and the chain walk shows what happened.
        let linked = store::audit::linked(&tx, &ids).await?;
        let rows: Vec<_> =
            store::audit::events(&tx, &ids).await?.into_iter().filter(|r| !linked.contains(&r.id)).collect();
        let gone: Vec<i64> = ids.iter().copied().filter(|id| !rows.iter().any(|r| r.id == *id)).collect();
        if !gone.is_empty() {
            tracing::warn!(events = ?gone, "queued audit events missing or already sealed; not sealed again");
        }
        let mut prev = parse_link(&hash).map_err(|e| DbErr::Custom(format!("audit chain head: {e}")))?;
        let mut links = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let seq = seq + 1 + i as i64;
            prev = link_for(&prev, seq, row);
            links.push(store::audit::Link { seq, event_id: row.id, hash: hex::encode(prev) });
        }
        store::audit::seal(&tx, &links, &gone, now).await?;
        tx.commit().await?;
        sealed += rows.len() as u64;
        if (ids.len() as u64) < PAGE {
            return Ok(sealed);
        }
    }
}

/// The outcome of walking the whole chain.
pub struct ChainReport {
    pub result: Result<audit_chain::Verified, audit_chain::Break>,
    /// Events committed but not yet sealed (not covered by the check).
    pub unsealed: u64,
    /// Of those, events not queued for sealing either: the service never
    /// leaves any, so they were written around it or taken off the queue.
    pub unqueued: u64,
}

/// Re-computes every link from the stored events, in pages, and compares
/// the end with the recorded head. Read-only.
pub async fn verify_chain(db: &impl sea_orm::ConnectionTrait) -> Result<ChainReport, DbErr> {
    const PAGE: u64 = 5_000;
    // Unsealed events are counted before the head is read: events sealed in
    // between are then both counted and walked, never neither, so "0
    // unsealed" means every event committed before the call was verified.
    let unsealed = store::audit::unsealed_count(db).await?;
    let unqueued = store::audit::unqueued_count(db).await?;
    // Head next: links sealed while we walk lie beyond it and are ignored.
    let (head_seq, head_hash) = store::audit::chain_head(db, false).await?;
    let head_hash = parse_link(&head_hash).map_err(|e| DbErr::Custom(format!("audit chain head: {e}")))?;
    let mut walker = audit_chain::Walker::default();
    let mut after = 0;
    let result = 'walk: loop {
        let links = store::audit::links_after(db, after, PAGE).await?;
        let ids: Vec<i64> = links.iter().map(|l| l.event_id).collect();
        let events: std::collections::HashMap<i64, entities::audit_event::Model> =
            store::audit::events(db, &ids).await?.into_iter().map(|e| (e.id, e)).collect();
        for l in &links {
            if l.seq > head_seq {
                break 'walk walker.finish(head_seq, &head_hash);
            }
            let Some(event) = events.get(&l.event_id) else {
                break 'walk Err(walker.event_gone(l.seq, l.event_id));
            };
            // An unparsable stored hash is as altered as a wrong one.
            let stored = parse_link(&l.hash).unwrap_or([0xff; 32]);
            if let Err(b) = walker.step(l.seq, &stored, &content(event)) {
                break 'walk Err(b);
            }
            after = l.seq;
        }
        if (links.len() as u64) < PAGE {
            break walker.finish(head_seq, &head_hash);
        }
    };
    Ok(ChainReport { result, unsealed, unqueued })
}

/// Seals new events every `audit_seal_ms` until stopped. Every instance runs
/// one; the head row lock makes them take turns.
pub async fn sealer(state: crate::state::AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_millis(state.settings.audit_seal_ms);
    loop {
        tokio::select! { _ = tokio::time::sleep(every) => {}, _ = stopped.changed() => return }
        if *stopped.borrow() {
            return;
        }
        if let Err(e) = seal_pending(&state.db, state.clock.now()).await {
            tracing::warn!(error = %e, "audit sealing failed; retrying next tick");
        }
    }
}

/// The link `event` makes at `seq` after `prev`: what the sealer records.
pub fn link_for(prev: &audit_chain::LinkHash, seq: i64, event: &entities::audit_event::Model) -> audit_chain::LinkHash {
    audit_chain::link(prev, seq, &content(event))
}

fn content(m: &entities::audit_event::Model) -> audit_chain::Content<'_> {
    audit_chain::Content {
        id: m.id,
        occurred_at: m.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        actor_role: &m.actor_role,
        actor_id: &m.actor_id,
        channel: m.channel.as_deref(),
        action: &m.action,
        subject_type: &m.subject_type,
        subject_id: &m.subject_id,
        before_version: m.before_version,
        after_version: m.after_version,
        detail: &m.detail,
    }
}

fn parse_link(h: &str) -> Result<audit_chain::LinkHash, String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(h, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
