//! Verifying displayed licences: a scanned credential, a batch from a
//! platform, or a code and name. Signatures are checked against the key
//! ring, standing is read from [`super::standing`]; neither touches the
//! database on the hot path once warm.
use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock as _};
use uuid::Uuid;

use super::{signing::KeySet, standing::Snapshot};
use crate::{
    config::Settings,
    domain::{
        credential::{self, Claims, ParseError},
        name, shop_url,
        uscc::Uscc,
        verification::{Verdict, judge_code, judge_credential},
    },
    error::{Code, Error, Result},
    state::AppState,
};

/// A parsed credential and whether its signature holds.
#[derive(Debug)]
pub struct Checked {
    pub claims: Claims,
    pub signature_ok: bool,
}

/// What a verification found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub claims: Option<Claims>,
    /// The enterprise, when there is one to show (never for a forgery).
    pub snapshot: Option<Arc<Snapshot>>,
    /// Why an item was `malformed`.
    pub problem: Option<&'static str>,
}

impl Outcome {
    fn malformed(problem: &'static str) -> Self {
        Outcome { verdict: Verdict::Malformed, claims: None, snapshot: None, problem: Some(problem) }
    }
}

pub struct Verifier {
    /// Credential text → parse and signature result. A pure function of the
    /// text and the key set, so it is cleared only when the keys change.
    /// Keyed by a 128-bit SHA-256 prefix of the text rather than the text
    /// (150 bytes): a forged credential would need a second preimage.
    checked: quick_cache::sync::Cache<[u8; 16], Arc<Checked>>,
    public: DefaultKeyedRateLimiter<IpAddr>,
    platform: DefaultKeyedRateLimiter<Uuid>,
}

fn checked_key(text: &str) -> [u8; 16] {
    use sha2::Digest;
    let d = sha2::Sha256::digest(text.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

impl Verifier {
    pub fn new(settings: &Settings) -> Self {
        let per_minute = NonZeroU32::new(settings.public_verify_per_minute).unwrap_or(NonZeroU32::MIN);
        let per_second = NonZeroU32::new(settings.platform_verify_per_second).unwrap_or(NonZeroU32::MIN);
        Verifier {
            checked: quick_cache::sync::Cache::new(settings.verify_cache_entries.max(1) as usize),
            public: RateLimiter::keyed(Quota::per_minute(per_minute)),
            platform: RateLimiter::keyed(Quota::per_second(per_second)),
        }
    }

    /// Parses and checks a credential (or a URL carrying one).
    pub fn check(&self, keys: &KeySet, text: &str) -> Result<Arc<Checked>, ParseError> {
        let digest = checked_key(text);
        if let Some(c) = self.checked.get(&digest) {
            return Ok(c);
        }
        let parsed = credential::parse(text)?;
        let key = keys.verifying.get(&parsed.claims.kid);
        let checked = Arc::new(Checked { signature_ok: key.is_some_and(|k| parsed.verify(k)), claims: parsed.claims });
        // An unknown key id may be a key another instance just created:
        // not cached, so it is checked again once the key ring catches up.
        if key.is_some() {
            self.checked.insert(digest, checked.clone());
        }
        Ok(checked)
    }

    pub fn forget_checked(&self) {
        self.checked.clear();
    }

    /// Spends one public verification for `client`.
    pub fn limit_public(&self, client: IpAddr) -> Result<()> {
        self.public
            .check_key(&client)
            .map_err(|not_until| rate_limited(not_until.wait_time_from(governor::clock::DefaultClock::default().now())))
    }

    /// Spends `n` verifications of a platform key.
    pub fn limit_platform(&self, key: Uuid, n: u32) -> Result<()> {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        match self.platform.check_key_n(&key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                Err(rate_limited(not_until.wait_time_from(governor::clock::DefaultClock::default().now())))
            }
            Err(_) => Err(Error::new(Code::RateLimited)
                .detail("批量条目数超过该密钥的速率上限", "The batch is larger than this key's rate allows")),
        }
    }

    /// Drops rate-limit state of clients that have gone quiet.
    pub fn housekeep(&self) {
        self.public.retain_recent();
        self.platform.retain_recent();
        self.public.shrink_to_fit();
        self.platform.shrink_to_fit();
    }
}

fn rate_limited(wait: std::time::Duration) -> Error {
    let mut e = Error::new(Code::RateLimited);
    e.retry_after = Some(wait.as_secs() + 1);
    e
}

/// Counts verifications by result and channel. The counters are registered
/// once: building a labelled key per request is measurable on this path.
fn count(verdict: Verdict, via: &'static str) {
    const VIA: [&str; 4] = ["public", "key", "page", "batch"];
    static COUNTERS: std::sync::OnceLock<Vec<metrics::Counter>> = std::sync::OnceLock::new();
    let counters = COUNTERS.get_or_init(|| {
        Verdict::ALL
            .iter()
            .flat_map(|v| {
                VIA.iter().map(move |via| {
                    metrics::counter!("greenchannel_verifications_total", "result" => v.as_str(), "via" => *via)
                })
            })
            .collect()
    });
    let v = Verdict::ALL.iter().position(|x| *x == verdict).unwrap_or(0);
    let w = VIA.iter().position(|x| *x == via).unwrap_or(0);
    counters[v * VIA.len() + w].increment(1);
}

/// Normalises the shop URL a verifier reports; `Err` names what is wrong.
fn shop(url: Option<&str>) -> Result<Option<String>, &'static str> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) => shop_url::normalize(u).map(Some).map_err(|_| "shop_url"),
    }
}

/// One credential. `Err(field)` when the credential or shop URL cannot be
/// parsed (a single request answers 400 for that field).
pub async fn credential(
    state: &AppState,
    text: &str,
    shop_url: Option<&str>,
    via: &'static str,
) -> Result<Result<Outcome, &'static str>> {
    let shop = match shop(shop_url) {
        Ok(s) => s,
        Err(field) => return Ok(Err(field)),
    };
    let keys = state.keys.current();
    let Ok(checked) = state.verifier.check(&keys, text) else { return Ok(Err("credential")) };
    let snapshot =
        if checked.signature_ok { state.standings.get(&state.db, &checked.claims.uscc).await? } else { None };
    let verdict = judge_credential(
        checked.signature_ok,
        &checked.claims,
        snapshot.as_ref().map(|s| s.standing()),
        shop.as_deref(),
    );
    count(verdict, via);
    Ok(Ok(Outcome { verdict, claims: Some(checked.claims.clone()), snapshot, problem: None }))
}

/// One item of a batch, as the platform sent it.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub uscc: Option<String>,
    pub name: Option<String>,
    pub credential: Option<String>,
    pub shop_url: Option<String>,
}

enum Prepared {
    Bad(&'static str),
    Code { uscc: Uscc, name_key: Option<String>, shop: Option<String> },
    Credential { checked: Arc<Checked>, shop: Option<String> },
}

/// A batch: every item answered, in order; an item that cannot be parsed
/// is `malformed` without failing the others. Standing for all the codes
/// involved is read in one go.
pub async fn batch(state: &AppState, items: &[Item]) -> Result<Vec<Outcome>> {
    let keys = state.keys.current();
    // The codes involved are known before any signature is checked (parsing
    // is cheap), so a cold read of their standing overlaps the checks.
    let mut codes: Vec<Uscc> = items
        .iter()
        .filter_map(|i| match (&i.credential, &i.uscc) {
            (Some(c), None) => credential::parse(c).ok().map(|p| p.claims.uscc),
            (None, Some(u)) => Uscc::parse(u).ok(),
            _ => None,
        })
        .collect();
    codes.sort();
    codes.dedup();
    let (prepared, found) = tokio::join!(check_all(state, &keys, items), state.standings.get_many(&state.db, &codes));
    let found = found?;
    let out = prepared
        .into_iter()
        .map(|p| {
            let o = match p {
                Prepared::Bad(problem) => Outcome::malformed(problem),
                Prepared::Code { uscc, name_key, shop } => {
                    let snap = found.get(&uscc).cloned();
                    let verdict = judge_code(snap.as_ref().map(|s| s.standing()), name_key.as_deref(), shop.as_deref());
                    Outcome { verdict, claims: None, snapshot: snap, problem: None }
                }
                Prepared::Credential { checked, shop } => {
                    let snap = if checked.signature_ok { found.get(&checked.claims.uscc).cloned() } else { None };
                    let verdict = judge_credential(
                        checked.signature_ok,
                        &checked.claims,
                        snap.as_ref().map(|s| s.standing()),
                        shop.as_deref(),
                    );
                    Outcome { verdict, claims: Some(checked.claims.clone()), snapshot: snap, problem: None }
                }
            };
            count(o.verdict, "batch");
            o
        })
        .collect();
    Ok(out)
}

/// Parses every item and checks the credentials' signatures, the CPU-heavy
/// part (tens of microseconds each), spread over the blocking pool.
async fn check_all(state: &AppState, keys: &Arc<KeySet>, items: &[Item]) -> Vec<Prepared> {
    const CHUNK: usize = 250;
    if items.len() <= CHUNK {
        return items.iter().map(|i| prepare(state, keys, i)).collect();
    }
    let mut tasks = Vec::new();
    for chunk in items.chunks(CHUNK) {
        let (state, keys, chunk) = (state.clone(), keys.clone(), chunk.to_vec());
        let len = chunk.len();
        tasks.push((
            len,
            tokio::task::spawn_blocking(move || chunk.iter().map(|i| prepare(&state, &keys, i)).collect()),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (len, t) in tasks {
        let part: Vec<Prepared> = t.await.unwrap_or_else(|_| (0..len).map(|_| Prepared::Bad("internal")).collect());
        out.extend(part);
    }
    out
}

fn prepare(state: &AppState, keys: &KeySet, item: &Item) -> Prepared {
    let shop = match shop(item.shop_url.as_deref()) {
        Ok(s) => s,
        Err(f) => return Prepared::Bad(f),
    };
    match (&item.credential, &item.uscc) {
        (Some(c), None) => match state.verifier.check(keys, c) {
            Ok(checked) if item.name.is_none() => Prepared::Credential { checked, shop },
            Ok(_) => Prepared::Bad("name"),
            Err(_) => Prepared::Bad("credential"),
        },
        (None, Some(u)) => match Uscc::parse(u) {
            Ok(code) => Prepared::Code {
                uscc: code,
                name_key: item.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(name::normalize),
                shop,
            },
            Err(_) => Prepared::Bad("uscc"),
        },
        _ => Prepared::Bad("item"),
    }
}
