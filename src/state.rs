//! What every request handler and background task shares: the database,
//! settings, the working-day calendar and the clock.
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use chrono::{DateTime, Duration, Utc};

use crate::{config::Settings, domain::working_days::Calendar, store::Db};

/// Wall-clock time, with an offset tests can move forward to reach deadlines
/// without waiting for them. Production never sets the offset.
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        // Microseconds: what PostgreSQL stores, so values read back compare equal.
        now - Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1000))
    }

    pub fn advance(&self, by: Duration) {
        self.offset_seconds.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub settings: Settings,
    pub calendar: Calendar,
    pub clock: Clock,
    /// Origin printed into QR codes and links.
    pub public_base_url: String,
    /// Verified bearer credentials by hash, with the time they stop being
    /// valid and when they were cached (entries older than
    /// `auth_cache_seconds` are misses).
    pub principals:
        quick_cache::sync::Cache<String, (crate::domain::principal::Principal, DateTime<Utc>, std::time::Instant)>,
    /// Credential signing keys.
    pub keys: crate::services::signing::KeyRing,
    /// What verification reads, kept in memory (see `services::standing`).
    pub standings: Arc<crate::services::standing::Standings>,
    pub verifier: crate::services::verification::Verifier,
    /// Rendered licence documents by (code, version, key, superseded).
    pub documents: crate::services::licence_documents::DocumentCache,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads what the instance keeps in memory (creating the first signing
    /// key on a new database) and hooks its caches to this instance's commits.
    pub async fn new(db: Db, settings: Settings, clock: Clock, bound: SocketAddr) -> anyhow::Result<Self> {
        let calendar = settings.calendar().map_err(|e| anyhow::anyhow!(e))?;
        let public_base_url = settings.public_base_url(bound);
        let principals = quick_cache::sync::Cache::new(100_000);
        let keys = crate::services::signing::KeyRing::load(&db, clock.now()).await?;
        let standings = Arc::new(crate::services::standing::Standings::new(&settings));
        let hooked = standings.clone();
        db.on_commit(move |touched| hooked.invalidate(touched));
        let verifier = crate::services::verification::Verifier::new(&settings);
        let documents = crate::services::licence_documents::DocumentCache::new();
        Ok(Self(Arc::new(Inner {
            keys,
            standings,
            verifier,
            documents,
            db,
            settings,
            calendar,
            clock,
            public_base_url,
            principals,
        })))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
