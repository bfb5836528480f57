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
    domain::{entity_type::EntityType, name, verification::Standing},
    error::Result,
    store::{self, Db},
};

/// An enterprise as verification sees it. Kept compact (a few hundred
/// bytes): an instance holds one per enterprise being verified, up to
/// `verify_cache_entries`; repeated values are shared, not copied.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub enterprise_id: Uuid,
    pub uscc: Box<str>,
    pub name: Option<Box<str>>,
    /// Only when normalising changed the name (see [`Self::name_key`]).
    normalized_name: Option<Box<str>>,
    pub entity_type: &'static str,
    pub status: &'static str,
    pub abnormal: bool,
    pub authority: Arc<str>,
    pub established_on: NaiveDate,
    pub licence_version: i32,
    pub representative: Box<str>,
    /// Normalised, sorted.
    pub display_urls: Box<[String]>,
    /// "略阳县市场监督管理局".
    pub authority_name: Arc<str>,
    loaded: std::time::Instant,
}

/// A registration authority's code and name.
type Authority = (Arc<str>, Arc<str>);

/// One shared copy of each registration authority's code and name.
fn authority(code: &str) -> Authority {
    static AUTHORITIES: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Authority>>> =
        std::sync::LazyLock::new(Default::default);
    let mut known = AUTHORITIES.lock().expect("authorities");
    known
        .entry(code.to_string())
        .or_insert_with(|| {
            let name = crate::domain::admin_code::AdminCode::parse(code)
                .map(|a| crate::domain::licence::authority_name(&a))
                .unwrap_or_else(|_| code.to_string());
            (code.into(), name.into())
        })
        .clone()
}

impl Snapshot {
    fn new(row: store::enterprises::StandingRow, display_urls: Vec<String>) -> Self {
        let normalized_name =
            row.name.as_deref().map(name::normalize).filter(|k| Some(k.as_str()) != row.name.as_deref());
        let (authority, authority_name) = authority(&row.authority);
        Snapshot {
            enterprise_id: row.id,
            uscc: row.uscc.into(),
            name: row.name.map(Into::into),
            normalized_name: normalized_name.map(Into::into),
            entity_type: EntityType::parse(&row.entity_type).map_or("unknown", EntityType::as_str),
            status: match row.status.as_str() {
                "active" => "active",
                "deregistered" => "deregistered",
                "revoked" => "revoked",
                _ => "unknown",
            },
            abnormal: row.abnormal,
            established_on: row.established_on,
            licence_version: row.licence_version,
            representative: row.representative_name.into(),
            authority,
            authority_name,
            display_urls: display_urls.into(),
            loaded: std::time::Instant::now(),
        }
    }

    /// The normalised name (see [`name::normalize`]); `None` if unnamed.
    pub fn name_key(&self) -> Option<&str> {
        self.normalized_name.as_deref().or(self.name.as_deref())
    }

    pub fn standing(&self) -> Standing<'_> {
        Standing {
            status: self.status,
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
    cache: quick_cache::sync::Cache<Box<str>, Arc<Snapshot>>,
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
    fn cached(&self, uscc: &str) -> Option<Arc<Snapshot>> {
        self.cache.get(uscc).filter(|s| s.loaded.elapsed() < self.ttl)
    }

    pub async fn get(&self, db: &Db, uscc: &str) -> Result<Option<Arc<Snapshot>>> {
        if let Some(s) = self.cached(uscc) {
            return Ok(Some(s));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(row) = store::enterprises::standing(db.conn(), uscc).await? else { return Ok(None) };
        let display_urls = store::display_urls::all_valid(db.conn(), row.id).await?;
        let snap = Arc::new(Snapshot::new(row, display_urls));
        if self.generation.load(Ordering::Acquire) == generation {
            self.cache.insert(snap.uscc.clone(), snap.clone());
        }
        Ok(Some(snap))
    }

    /// [`get`](Self::get) for many codes: misses are read in bulk.
    pub async fn get_many(&self, db: &Db, usccs: &[String]) -> Result<HashMap<String, Arc<Snapshot>>> {
        let mut found = HashMap::with_capacity(usccs.len());
        let mut missing = Vec::new();
        for u in usccs {
            match self.cached(u) {
                Some(s) => {
                    found.insert(u.clone(), s);
                }
                None => missing.push(u.clone()),
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
            let snap = Arc::new(Snapshot::new(row, display_urls));
            if keep {
                self.cache.insert(snap.uscc.clone(), snap.clone());
            }
            found.insert(snap.uscc.to_string(), snap);
        }
        Ok(found)
    }

    pub fn invalidate(&self, usccs: &[String]) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for u in usccs {
            self.cache.remove(u.as_str());
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
