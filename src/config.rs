//! Typed settings: defaults, then an optional TOML file (`--config` or
//! `GREENCHANNEL_CONFIG`), then `GREENCHANNEL_*` / `DATABASE_URL` variables.
//! Secrets are [`SecretString`]s: they never appear in `Debug` output or logs.
use std::{net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::working_days::Calendar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `postgres://…` for PostgreSQL; unset means SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// Origin printed into QR codes and links; defaults to `http://<bind>`.
    pub public_base_url: Option<String>,
    /// Registers the `dev` channel. Never in production.
    pub dev: bool,
    pub dev_channel_secret: SecretString,
    pub log_format: LogFormat,
    pub session_ttl_minutes: i64,
    /// Largest JSON body accepted, in bytes.
    pub max_body_bytes: usize,
    pub db_max_connections: u32,
    /// SQLite `synchronous`: `normal` survives a killed process (WAL);
    /// `full` also survives power loss at some cost per commit.
    pub sqlite_synchronous: String,
    /// Working days a reviewer has for a submitted application.
    pub review_working_days: u32,
    /// Per kind or kind/entity type: `["change=5", "establish/limited_company=3"]`.
    pub review_working_days_by_kind: Vec<String>,
    /// Simplified deregistration: days of public notice (individual businesses: 10).
    pub deregistration_notice_days: i64,
    pub deregistration_notice_days_individual: i64,
    /// Public holidays (`YYYY-MM-DD`), skipped by working-day deadlines.
    pub holidays: Vec<String>,
    /// Weekend days that are working days (调休).
    pub extra_working_days: Vec<String>,
    /// How long a declared name stays reserved for an application, in days.
    pub name_reservation_days: i64,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    pub shutdown_grace_seconds: u64,
    /// Seconds an instance may reuse a verified bearer credential without
    /// asking the database again. A sign-out or revocation takes effect at
    /// once on the instance that made it and within this many seconds on
    /// the others. 0 disables the cache.
    pub auth_cache_seconds: u64,
    /// Enterprises already registered at one non-hosted address above which a
    /// new registration there warns the reviewer (and is not auto-approved).
    pub address_concentration_threshold: u64,
    /// Default working days for a department to claim a pushed registration.
    pub notification_claim_days: u32,
    /// Default working days from claim to feedback.
    pub notification_feedback_days: u32,
    /// Run the outbox delivery worker in this instance.
    pub delivery_worker: bool,
    /// Attempts before a message is dead (visible to admins, who may retry).
    pub delivery_max_attempts: i32,
    /// How long an instance holds a claimed message; a crashed instance's
    /// claim expires after this. Longer than the HTTP timeout.
    pub delivery_lease_seconds: i64,
    pub delivery_timeout_seconds: u64,
    /// First retry delay; doubles each attempt (with ±20% jitter), capped at an hour.
    pub delivery_backoff_ms: u64,
    /// Messages claimed and sent at once.
    pub delivery_batch: u64,
    /// Approve plain cases at submission (秒批).
    pub auto_approval: bool,
    /// Entity types eligible for automatic approval.
    pub auto_approval_entity_types: Vec<String>,
    /// Enterprises whose verification standing an instance keeps in memory.
    pub verify_cache_entries: u64,
    /// Upper bound on how long a cached standing is trusted, in seconds
    /// (changes normally reach every instance through the change feed).
    pub verify_cache_ttl_seconds: u64,
    /// How often an instance reads the change feed (and the signing keys)
    /// to drop what other instances changed, in milliseconds.
    pub cache_sync_ms: u64,
    /// How often the audit trail's new events are sealed into the hash
    /// chain, in milliseconds (the window in which an edit goes unnoticed).
    pub audit_seal_ms: u64,
    /// Public verifications (no key) per client address per minute.
    pub public_verify_per_minute: u32,
    /// Verifications per platform key per second (a batch counts its items);
    /// also the burst a key may spend at once.
    pub platform_verify_per_second: u32,
    /// Header carrying the client address when behind a trusted proxy
    /// (e.g. `x-real-ip`); unset means the peer address.
    pub client_ip_header: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("./data"),
            bind: "127.0.0.1:8080".parse().expect("valid address"),
            public_base_url: None,
            dev: false,
            dev_channel_secret: SecretString::from("dev-secret"),
            log_format: LogFormat::Text,
            session_ttl_minutes: 120,
            max_body_bytes: 1024 * 1024,
            db_max_connections: 8,
            sqlite_synchronous: "normal".into(),
            review_working_days: 3,
            review_working_days_by_kind: Vec::new(),
            deregistration_notice_days: 20,
            deregistration_notice_days_individual: 10,
            holidays: Vec::new(),
            extra_working_days: Vec::new(),
            name_reservation_days: 60,
            shutdown_grace_seconds: 20,
            auth_cache_seconds: 5,
            address_concentration_threshold: 5,
            notification_claim_days: 5,
            notification_feedback_days: 20,
            delivery_worker: true,
            delivery_max_attempts: 8,
            delivery_lease_seconds: 30,
            delivery_timeout_seconds: 10,
            delivery_backoff_ms: 2_000,
            delivery_batch: 100,
            auto_approval: true,
            auto_approval_entity_types: vec!["individual_business".into(), "sole_proprietorship".into()],
            verify_cache_entries: 250_000,
            verify_cache_ttl_seconds: 300,
            cache_sync_ms: 500,
            audit_seal_ms: 1_000,
            public_verify_per_minute: 60,
            platform_verify_per_second: 2_000,
            client_ip_header: None,
        }
    }
}

impl Settings {
    /// Defaults ← file ← environment.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let file = file.map(PathBuf::from).or_else(|| std::env::var_os("GREENCHANNEL_CONFIG").map(PathBuf::from));
        let mut s = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => Settings::default(),
        };
        s.apply_env(|k| std::env::var(k).ok())?;
        s.validate()?;
        Ok(s)
    }

    /// Applies environment overrides read through `get` (a closure so tests
    /// need not touch the process environment).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(k: &str, v: String) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            v.trim().parse().map_err(|e| anyhow::anyhow!("{k}: {e}"))
        }
        let list = |v: String| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if let Some(v) = get("DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = Some(SecretString::from(v));
        }
        if let Some(v) = get("GREENCHANNEL_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("GREENCHANNEL_BIND") {
            self.bind = parse("GREENCHANNEL_BIND", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_PUBLIC_BASE_URL").filter(|v| !v.is_empty()) {
            self.public_base_url = Some(v);
        }
        if let Some(v) = get("GREENCHANNEL_DEV") {
            self.dev = matches!(v.trim(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = get("GREENCHANNEL_DEV_CHANNEL_SECRET") {
            self.dev_channel_secret = SecretString::from(v);
        }
        if let Some(v) = get("GREENCHANNEL_LOG_FORMAT") {
            self.log_format = match v.trim() {
                "json" => LogFormat::Json,
                "text" | "" => LogFormat::Text,
                other => bail!("GREENCHANNEL_LOG_FORMAT: expected text or json, got {other}"),
            };
        }
        if let Some(v) = get("GREENCHANNEL_SESSION_TTL_MINUTES") {
            self.session_ttl_minutes = parse("GREENCHANNEL_SESSION_TTL_MINUTES", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("GREENCHANNEL_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parse("GREENCHANNEL_DB_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_SQLITE_SYNCHRONOUS") {
            self.sqlite_synchronous = v.trim().to_lowercase();
        }
        if let Some(v) = get("GREENCHANNEL_REVIEW_WORKING_DAYS") {
            self.review_working_days = parse("GREENCHANNEL_REVIEW_WORKING_DAYS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_REVIEW_WORKING_DAYS_BY_KIND") {
            self.review_working_days_by_kind = list(v);
        }
        if let Some(v) = get("GREENCHANNEL_HOLIDAYS") {
            self.holidays = list(v);
        }
        if let Some(v) = get("GREENCHANNEL_EXTRA_WORKING_DAYS") {
            self.extra_working_days = list(v);
        }
        if let Some(v) = get("GREENCHANNEL_AUTH_CACHE_SECONDS") {
            self.auth_cache_seconds = parse("GREENCHANNEL_AUTH_CACHE_SECONDS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_VERIFY_CACHE_ENTRIES") {
            self.verify_cache_entries = parse("GREENCHANNEL_VERIFY_CACHE_ENTRIES", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_VERIFY_CACHE_TTL_SECONDS") {
            self.verify_cache_ttl_seconds = parse("GREENCHANNEL_VERIFY_CACHE_TTL_SECONDS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_CACHE_SYNC_MS") {
            self.cache_sync_ms = parse("GREENCHANNEL_CACHE_SYNC_MS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_AUDIT_SEAL_MS") {
            self.audit_seal_ms = parse("GREENCHANNEL_AUDIT_SEAL_MS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_PUBLIC_VERIFY_PER_MINUTE") {
            self.public_verify_per_minute = parse("GREENCHANNEL_PUBLIC_VERIFY_PER_MINUTE", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_PLATFORM_VERIFY_PER_SECOND") {
            self.platform_verify_per_second = parse("GREENCHANNEL_PLATFORM_VERIFY_PER_SECOND", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_CLIENT_IP_HEADER").filter(|v| !v.trim().is_empty()) {
            self.client_ip_header = Some(v.trim().to_ascii_lowercase());
        }
        if let Some(v) = get("GREENCHANNEL_ADDRESS_CONCENTRATION_THRESHOLD") {
            self.address_concentration_threshold = parse("GREENCHANNEL_ADDRESS_CONCENTRATION_THRESHOLD", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_NOTIFICATION_CLAIM_DAYS") {
            self.notification_claim_days = parse("GREENCHANNEL_NOTIFICATION_CLAIM_DAYS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_NOTIFICATION_FEEDBACK_DAYS") {
            self.notification_feedback_days = parse("GREENCHANNEL_NOTIFICATION_FEEDBACK_DAYS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_DELIVERY_WORKER") {
            self.delivery_worker = !matches!(v.trim(), "0" | "false" | "no" | "off");
        }
        if let Some(v) = get("GREENCHANNEL_DELIVERY_MAX_ATTEMPTS") {
            self.delivery_max_attempts = parse("GREENCHANNEL_DELIVERY_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_DELIVERY_LEASE_SECONDS") {
            self.delivery_lease_seconds = parse("GREENCHANNEL_DELIVERY_LEASE_SECONDS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_DELIVERY_TIMEOUT_SECONDS") {
            self.delivery_timeout_seconds = parse("GREENCHANNEL_DELIVERY_TIMEOUT_SECONDS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_DELIVERY_BACKOFF_MS") {
            self.delivery_backoff_ms = parse("GREENCHANNEL_DELIVERY_BACKOFF_MS", v)?;
        }
        if let Some(v) = get("GREENCHANNEL_AUTO_APPROVAL") {
            self.auto_approval = matches!(v.trim(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = get("GREENCHANNEL_AUTO_APPROVAL_ENTITY_TYPES") {
            self.auto_approval_entity_types = list(v);
        }
        if let Some(v) = get("GREENCHANNEL_NAME_RESERVATION_DAYS") {
            self.name_reservation_days = parse("GREENCHANNEL_NAME_RESERVATION_DAYS", v)?;
        }
        Ok(())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if !matches!(self.sqlite_synchronous.as_str(), "normal" | "full") {
            bail!("sqlite_synchronous: expected normal or full");
        }
        if self.session_ttl_minutes <= 0 || self.session_ttl_minutes > 24 * 60 {
            bail!("session_ttl_minutes: expected 1..=1440");
        }
        self.calendar().map_err(|e| anyhow::anyhow!("holidays: {e}"))?;
        if self.public_verify_per_minute == 0 || self.platform_verify_per_second == 0 {
            bail!("public_verify_per_minute and platform_verify_per_second must be at least 1");
        }
        if self.cache_sync_ms == 0 || self.audit_seal_ms == 0 {
            bail!("cache_sync_ms and audit_seal_ms must be at least 1");
        }
        for e in &self.review_working_days_by_kind {
            let ok = e.split_once('=').is_some_and(|(_, v)| v.trim().parse::<u32>().is_ok());
            if !ok {
                bail!("review_working_days_by_kind: expected kind[/entity_type]=days, got {e}");
            }
        }
        if let Some(u) = &self.public_base_url {
            let parsed = url::Url::parse(u).with_context(|| format!("public_base_url {u}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("public_base_url: http or https only");
            }
        }
        Ok(())
    }

    /// Review time limit for a kind of application and entity type: the most
    /// specific override wins (`kind/type`, then `kind`, then the default).
    pub fn review_days(&self, kind: &str, entity_type: &str) -> u32 {
        let lookup = |key: &str| {
            self.review_working_days_by_kind.iter().find_map(|e| {
                let (k, v) = e.split_once('=')?;
                (k.trim() == key).then(|| v.trim().parse().ok()).flatten()
            })
        };
        lookup(&format!("{kind}/{entity_type}")).or_else(|| lookup(kind)).unwrap_or(self.review_working_days)
    }

    pub fn calendar(&self) -> Result<Calendar, String> {
        Calendar::from_lists(&self.holidays, &self.extra_working_days)
    }

    /// The origin QR codes point at, without a trailing slash.
    pub fn public_base_url(&self, bound: SocketAddr) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_string()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let mut s = Settings::default();
        let env = |k: &str| match k {
            "DATABASE_URL" => Some("postgres://u:p@h/db".to_string()),
            "GREENCHANNEL_DEV" => Some("1".to_string()),
            "GREENCHANNEL_HOLIDAYS" => Some("2027-01-01, 2027-02-17".to_string()),
            _ => None,
        };
        s.apply_env(env).unwrap();
        assert!(s.dev);
        assert_eq!(s.database_url.as_ref().unwrap().expose_secret(), "postgres://u:p@h/db");
        assert_eq!(s.holidays.len(), 2);
        s.validate().unwrap();
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s =
            Settings { database_url: Some(SecretString::from("postgres://user:hunter2@db/x")), ..Default::default() };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("dev-secret"), "{shown}");
    }

    #[test]
    fn review_days_take_the_most_specific_override() {
        let s = Settings {
            review_working_days_by_kind: vec!["change=5".into(), "establish/limited_company=2".into()],
            ..Default::default()
        };
        assert_eq!(s.review_days("establish", "limited_company"), 2);
        assert_eq!(s.review_days("establish", "individual_business"), 3);
        assert_eq!(s.review_days("change", "limited_company"), 5);
        s.validate().unwrap();
    }

    #[test]
    fn bad_values_are_reported_not_ignored() {
        let mut s = Settings::default();
        assert!(s.apply_env(|k| (k == "GREENCHANNEL_BIND").then(|| "nope".into())).is_err());
        let s = Settings { holidays: vec!["2027-02-30".into()], ..Default::default() };
        assert!(s.validate().is_err());
    }
}
