//! Each instance's in-memory copy of what verification reads: an
//! enterprise's status, licence version, name and display URLs.
//!
//! Verification is the hottest read in the system (platforms re-check
//! millions of shops; consumers scan storefront codes), and this is what
//! keeps it off the database. Correctness across instances:
//!
//! - a commit on this instance drops what it touched before returning
//!   ([`crate::store::Db::on_commit`]), so the next verification here sees it;
//! - every instance reads the commit-ordered change feed every
//!   `cache_sync_ms` and drops what others changed (and re-reads the
//!   signing keys);
//! - a load that raced with an invalidation is not cached (generation
//!   check), and `verify_cache_ttl_seconds` bounds any entry's age.
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    config::Settings,
    domain::{entity_type::EntityType, name, uscc::Uscc, verification::Standing},
    error::Result,
    store::{self, Db},
};

/// An enterprise as verification sees it. Kept compact (about 100 bytes
/// and one string): an instance holds one per enterprise being verified,
/// up to `verify_cache_entries`, and at 100 000 entries each 100 bytes
/// saved is 10 MB of resident memory. Codes are inline, the texts share
/// one allocation, repeated values (authorities) are shared.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub enterprise_id: Uuid,
    pub uscc: Uscc,
    /// The name, then its normalised form if that differs, then the
    /// representative's name, split at `name_end` and `key_end`.
    text: Box<str>,
    /// `u16::MAX`: no name (an individual business may have none).
    name_end: u16,
    key_end: u16,
    entity_type: Option<EntityType>,
    status: Status,
    pub abnormal: bool,
    pub established_on: NaiveDate,
    pub licence_version: i32,
    /// Normalised, sorted; empty (no allocation) for most enterprises.
    pub display_urls: Box<[String]>,
    authority: Arc<Authority>,
    /// Seconds since this process's [`epoch`].
    loaded: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Deregistered,
    Revoked,
    Unknown,
}

/// A registration authority's code and name ("略阳县市场监督管理局").
#[derive(Debug)]
struct Authority {
    code: Box<str>,
    name: Box<str>,
}

/// One shared copy of each registration authority's code and name.
fn authority(code: &str) -> Arc<Authority> {
    static AUTHORITIES: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Arc<Authority>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut known = AUTHORITIES.lock().expect("authorities");
    known
        .entry(code.to_string())
        .or_insert_with(|| {
            let name = crate::domain::admin_code::AdminCode::parse(code)
                .map(|a| crate::domain::licence::authority_name(&a))
                .unwrap_or_else(|_| code.to_string());
            Arc::new(Authority { code: code.into(), name: name.into() })
        })
        .clone()
}

/// The instant cache ages are counted from (a `u32` of seconds is 12 bytes
/// smaller per entry than an `Instant`).
fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::LazyLock<std::time::Instant> = std::sync::LazyLock::new(std::time::Instant::now);
    *EPOCH
}

fn seconds_since_epoch() -> u32 {
    u32::try_from(epoch().elapsed().as_secs()).unwrap_or(u32::MAX)
}

impl Snapshot {
    /// `None` when the stored code is not a valid one (never for codes
    /// greenchannel issued; such a row cannot be verified by code anyway):
    /// verification then answers "not found", and the log says why.
    fn new(row: store::enterprises::StandingRow, display_urls: Vec<String>) -> Option<Self> {
        let Ok(uscc) = Uscc::parse(&row.uscc) else {
            tracing::warn!(enterprise = %row.id, uscc = %row.uscc, "stored code is invalid; verification answers not found");
            return None;
        };
        let normalized = row.name.as_deref().map(name::normalize).filter(|k| Some(k.as_str()) != row.name.as_deref());
        let mut text = String::with_capacity(
            row.name.as_ref().map_or(0, String::len)
                + normalized.as_ref().map_or(0, String::len)
                + row.representative_name.len(),
        );
        text.push_str(row.name.as_deref().unwrap_or_default());
        let name_end = if row.name.is_some() { u16::try_from(text.len()).ok()? } else { u16::MAX };
        text.push_str(normalized.as_deref().unwrap_or_default());
        let key_end = u16::try_from(text.len()).ok()?;
        text.push_str(&row.representative_name);
        Some(Snapshot {
            enterprise_id: row.id,
            uscc,
            text: text.into(),
            name_end,
            key_end,
            entity_type: EntityType::parse(&row.entity_type),
            status: match row.status.as_str() {
                "active" => Status::Active,
                "deregistered" => Status::Deregistered,
                "revoked" => Status::Revoked,
                _ => Status::Unknown,
            },
            abnormal: row.abnormal,
            established_on: row.established_on,
            licence_version: row.licence_version,
            authority: authority(&row.authority),
            display_urls: display_urls.into(),
            loaded: seconds_since_epoch(),
        })
    }

    /// The registered name; `None` if unnamed.
    pub fn name(&self) -> Option<&str> {
        (self.name_end != u16::MAX).then(|| &self.text[..usize::from(self.name_end)])
    }

    /// The legal representative's (or operator's, or investor's) name.
    pub fn representative(&self) -> &str {
        &self.text[usize::from(self.key_end)..]
    }

    /// `None` for a type this version does not know.
    pub fn entity_type(&self) -> Option<EntityType> {
        self.entity_type
    }

    /// "active", "deregistered", "revoked" (or "unknown").
    pub fn status(&self) -> &'static str {
        match self.status {
            Status::Active => "active",
            Status::Deregistered => "deregistered",
            Status::Revoked => "revoked",
            Status::Unknown => "unknown",
        }
    }

    /// The registration authority's division code.
    pub fn authority(&self) -> &str {
        &self.authority.code
    }

    /// "略阳县市场监督管理局".
    pub fn authority_name(&self) -> &str {
        &self.authority.name
    }

    /// The normalised name (see [`name::normalize`]); `None` if unnamed.
    pub fn name_key(&self) -> Option<&str> {
        let name = self.name()?;
        let start = usize::from(self.name_end);
        let end = usize::from(self.key_end);
        Some(if end > start { &self.text[start..end] } else { name })
    }

    pub fn standing(&self) -> Standing<'_> {
        Standing {
            status: self.status(),
            licence_version: self.licence_version,
            name_key: self.name_key(),
            display_urls: &self.display_urls,
        }
    }
}

/// quick_cache rather than moka: reads here outnumber writes by orders of
/// magnitude, and its lookups are several times cheaper. Entries carry their
/// load time; one older than the TTL counts as a miss.
pub struct Standings {
    cache: quick_cache::sync::Cache<[u8; 18], Arc<Snapshot>>,
    ttl: std::time::Duration,
    /// Bumped by every invalidation; a load that saw it change is not kept.
    generation: AtomicU64,
}

impl Standings {
    pub fn new(settings: &Settings) -> Self {
        Standings {
            cache: quick_cache::sync::Cache::new(settings.verify_cache_entries.max(1) as usize),
            ttl: std::time::Duration::from_secs(settings.verify_cache_ttl_seconds.max(1)),
            generation: AtomicU64::new(0),
        }
    }

    /// The enterprise with this code, from memory or the database.
    /// Unknown codes are not cached (they cost one indexed miss each and
    /// would otherwise need invalidating when the code is issued).
    fn cached(&self, uscc: &Uscc) -> Option<Arc<Snapshot>> {
        let ttl = self.ttl.as_secs();
        self.cache.get(uscc.bytes()).filter(|s| u64::from(seconds_since_epoch().saturating_sub(s.loaded)) < ttl)
    }

    pub async fn get(&self, db: &Db, uscc: &Uscc) -> Result<Option<Arc<Snapshot>>> {
        if let Some(s) = self.cached(uscc) {
            return Ok(Some(s));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(row) = store::enterprises::standing(db.conn(), uscc).await? else { return Ok(None) };
        let display_urls = store::display_urls::all_valid(db.conn(), row.id).await?;
        let Some(snap) = Snapshot::new(row, display_urls).map(Arc::new) else { return Ok(None) };
        if self.generation.load(Ordering::Acquire) == generation {
            self.cache.insert(*snap.uscc.bytes(), snap.clone());
        }
        Ok(Some(snap))
    }

    /// [`get`](Self::get) for many codes: misses are read in bulk.
    pub async fn get_many(&self, db: &Db, usccs: &[Uscc]) -> Result<HashMap<Uscc, Arc<Snapshot>>> {
        let mut found = HashMap::with_capacity(usccs.len());
        let mut missing = Vec::new();
        for u in usccs {
            match self.cached(u) {
                Some(s) => {
                    found.insert(*u, s);
                }
                None => missing.push(u.to_string()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort();
        missing.dedup();
        let generation = self.generation.load(Ordering::Acquire);
        // Cold reads of a large batch: a few chunks at once, on separate
        // connections, rather than one long sequence of round trips.
        let loads = missing.chunks(250).map(|chunk| async move {
            let rows = store::enterprises::standings(db.conn(), chunk).await?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let urls = store::display_urls::all_valid_many(db.conn(), &ids).await?;
            Ok::<_, sea_orm::DbErr>((rows, urls))
        });
        let parts = futures_util::future::try_join_all(loads).await?;
        let keep = self.generation.load(Ordering::Acquire) == generation;
        let (mut rows, mut urls) = (Vec::new(), HashMap::new());
        for (r, u) in parts {
            rows.extend(r);
            urls.extend(u);
        }
        for row in rows {
            let display_urls = urls.remove(&row.id).unwrap_or_default();
            let Some(snap) = Snapshot::new(row, display_urls).map(Arc::new) else { continue };
            if keep {
                self.cache.insert(*snap.uscc.bytes(), snap.clone());
            }
            found.insert(snap.uscc, snap);
        }
        Ok(found)
    }

    /// Drops these codes (as stored; anything that is not 18 bytes was
    /// never cached).
    pub fn invalidate(&self, usccs: &[String]) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for u in usccs {
            if let Ok(key) = <[u8; 18]>::try_from(u.as_bytes()) {
                self.cache.remove(&key);
            }
        }
    }

    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.clear();
    }

    pub fn entries(&self) -> u64 {
        self.cache.len() as u64
    }
}

/// Keeps this instance's caches in step with the others: every
/// `cache_sync_ms`, reads the change feed from where it left off and drops
/// the enterprises it names, and re-reads the signing keys. Stops when
/// `stopped` turns true.
pub async fn sync(state: crate::state::AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_millis(state.settings.cache_sync_ms);
    let mut cursor = loop {
        match store::events::horizon(state.db.conn()).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, "cache sync: reading the feed horizon");
                tokio::select! { _ = tokio::time::sleep(every) => {}, _ = stopped.changed() => return }
            }
        }
    };
    // Anything cached before the horizon was read may predate a change.
    state.standings.clear();
    let mut ticks: u64 = 0;
    loop {
        tokio::select! { _ = tokio::time::sleep(every) => {}, _ = stopped.changed() => return }
        if *stopped.borrow() {
            return;
        }
        ticks += 1;
        loop {
            match store::events::after(state.db.conn(), None, cursor, 1000).await {
                Ok(rows) => {
                    let Some(last) = rows.last() else { break };
                    cursor = (last.txid, last.seq);
                    let usccs: Vec<String> = rows.iter().map(|r| r.uscc.clone()).collect();
                    state.standings.invalidate(&usccs);
                    if rows.len() < 1000 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cache sync: reading the change feed");
                    break;
                }
            }
        }
        match state.keys.refresh(&state.db).await {
            Ok(true) => {
                // Checked credentials and rendered documents both depend on
                // the keys (a retired key's documents are re-minted).
                tracing::info!("signing keys changed; dropping checked credentials and documents");
                state.verifier.forget_checked();
                state.documents.clear();
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cache sync: reading signing keys"),
        }
        if ticks.is_multiple_of(120) {
            state.verifier.housekeep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: Option<&str>, representative: &str) -> store::enterprises::StandingRow {
        store::enterprises::StandingRow {
            id: Uuid::nil(),
            uscc: "92610727MA0000007X".into(),
            name: name.map(String::from),
            entity_type: "individual_business".into(),
            status: "active".into(),
            abnormal: false,
            authority: "610727".into(),
            established_on: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            licence_version: 2,
            representative_name: representative.into(),
        }
    }

    /// The packed texts read back exactly as they went in.
    #[test]
    fn packed_texts_read_back() {
        let s = Snapshot::new(row(Some("略阳县青禾电子商务店"), "张三"), vec![]).unwrap();
        assert_eq!(s.name(), Some("略阳县青禾电子商务店"));
        assert_eq!(s.name_key(), Some("略阳县青禾电子商务店"));
        assert_eq!(s.representative(), "张三");
        assert_eq!(
            (s.uscc.as_str(), s.status(), s.entity_type()),
            ("92610727MA0000007X", "active", Some(EntityType::IndividualBusiness))
        );
        assert_eq!((s.authority(), s.authority_name()), ("610727", "略阳县市场监督管理局"));

        // A name whose normalised form differs keeps both.
        let s = Snapshot::new(row(Some("略阳县 青禾(汉中)电子商务店"), "李四"), vec![]).unwrap();
        assert_eq!(s.name(), Some("略阳县 青禾(汉中)电子商务店"));
        assert_eq!(s.name_key(), Some("略阳县青禾（汉中）电子商务店"));
        assert_eq!(s.representative(), "李四");

        // An individual business may have no name.
        let s = Snapshot::new(row(None, "王五"), vec![]).unwrap();
        assert_eq!((s.name(), s.name_key(), s.representative()), (None, None, "王五"));
        let s = Snapshot::new(row(Some(""), "王五"), vec![]).unwrap();
        assert_eq!((s.name(), s.representative()), (Some(""), "王五"));
    }

    /// A stored code that is not a valid one is not cached as an enterprise.
    #[test]
    fn an_invalid_stored_code_gives_no_snapshot() {
        let mut r = row(Some("略阳县青禾电子商务店"), "张三");
        r.uscc = "92610727MA0000007Y".into();
        assert!(Snapshot::new(r, vec![]).is_none());
    }

    /// Entries stay small: the cache holds up to `verify_cache_entries`.
    #[test]
    fn a_snapshot_is_compact() {
        assert!(std::mem::size_of::<Snapshot>() <= 96, "{}", std::mem::size_of::<Snapshot>());
    }
}
