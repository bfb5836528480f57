//! The keys that sign licence credentials: kept in the database so every
//! instance signs with the same key, rotated without invalidating what was
//! already printed, and published as a JWK set for offline verification.
//!
//! Each instance holds the set in memory ([`KeyRing`]) and reloads it when it
//! meets a key id it does not know and on the cache-sync tick, so a rotation
//! or retirement made by one instance (or the CLI) reaches the others.
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{Value, json};

use crate::{
    error::{Code, Error, Result},
    store::{self, Db},
};

pub const SIGNING: &str = "signing";
pub const VERIFYING: &str = "verifying";
pub const RETIRED: &str = "retired";

/// The published keys, and the one that signs.
#[derive(Clone)]
pub struct KeySet {
    /// The key new credentials are signed with.
    pub signing: Option<u16>,
    /// Every key still published, by id (the signing key included), with
    /// its private half: a licence version keeps the key it was issued
    /// with for as long as that key is published.
    pub keys: BTreeMap<u16, SigningKey>,
    pub verifying: BTreeMap<u16, VerifyingKey>,
    /// Changes whenever a key is added, rotated or retired.
    pub fingerprint: String,
}

impl KeySet {
    fn from_rows(rows: &[store::signing_keys::Row]) -> anyhow::Result<Self> {
        let mut set =
            KeySet { signing: None, keys: BTreeMap::new(), verifying: BTreeMap::new(), fingerprint: String::new() };
        for r in rows {
            set.fingerprint.push_str(&format!("{}:{};", r.kid, r.status));
            if r.status == RETIRED {
                continue;
            }
            let kid = u16::try_from(r.kid)?;
            let seed: [u8; 32] =
                B64.decode(&r.private_key)?.try_into().map_err(|_| anyhow::anyhow!("key {kid}: length"))?;
            let key = SigningKey::from_bytes(&seed);
            if B64.encode(key.verifying_key().as_bytes()) != r.public_key {
                anyhow::bail!("signing key {kid}: public and private halves do not match");
            }
            set.verifying.insert(kid, key.verifying_key());
            set.keys.insert(kid, key);
            if r.status == SIGNING {
                set.signing = Some(kid);
            }
        }
        Ok(set)
    }

    /// The key to sign a licence version with: the one recorded for it if
    /// still published, else today's signing key.
    pub fn for_version(&self, recorded: Option<i32>) -> Option<(u16, &SigningKey)> {
        let recorded = recorded.and_then(|k| u16::try_from(k).ok());
        recorded
            .and_then(|k| self.keys.get(&k).map(|key| (k, key)))
            .or_else(|| self.signing.and_then(|k| self.keys.get(&k).map(|key| (k, key))))
    }

    /// RFC 8037 JWK set (`OKP`, `Ed25519`), `kid` as a decimal string.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .verifying
            .iter()
            .map(|(kid, k)| {
                json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid.to_string(), "x": B64.encode(k.as_bytes()) })
            })
            .collect();
        json!({ "keys": keys })
    }

    /// Reads a JWK set as [`jwks`](Self::jwks) writes it.
    pub fn from_jwks(v: &Value) -> anyhow::Result<BTreeMap<u16, VerifyingKey>> {
        let mut out = BTreeMap::new();
        for k in v["keys"].as_array().ok_or_else(|| anyhow::anyhow!("no \"keys\" array"))? {
            if k["kty"] != "OKP" || k["crv"] != "Ed25519" {
                continue;
            }
            let kid: u16 = k["kid"].as_str().ok_or_else(|| anyhow::anyhow!("kid missing"))?.parse()?;
            let x: [u8; 32] = B64
                .decode(k["x"].as_str().ok_or_else(|| anyhow::anyhow!("x missing"))?)?
                .try_into()
                .map_err(|_| anyhow::anyhow!("key {kid}: length"))?;
            out.insert(kid, VerifyingKey::from_bytes(&x)?);
        }
        Ok(out)
    }
}

#[derive(Clone)]
pub struct KeyRing(Arc<RwLock<Arc<KeySet>>>);

impl KeyRing {
    /// Loads the keys, creating the first signing key if there is none.
    pub async fn load(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let mut rows = store::signing_keys::all(db.conn()).await?;
        if !rows.iter().any(|r| r.status == SIGNING) {
            rotate(db, now).await.map_err(|e| anyhow::anyhow!("creating the first signing key: {e:?}"))?;
            rows = store::signing_keys::all(db.conn()).await?;
        }
        Ok(KeyRing(Arc::new(RwLock::new(Arc::new(KeySet::from_rows(&rows)?)))))
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.0.read().expect("key ring").clone()
    }

    /// Re-reads the keys; true when they changed.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<bool> {
        let rows = store::signing_keys::all(db.conn()).await?;
        let set = KeySet::from_rows(&rows)?;
        let mut cur = self.0.write().expect("key ring");
        if cur.fingerprint == set.fingerprint {
            return Ok(false);
        }
        *cur = Arc::new(set);
        Ok(true)
    }
}

/// Starts signing with a new key; the previous one keeps verifying.
/// Returns the new key id.
pub async fn rotate(db: &Db, now: DateTime<Utc>) -> Result<u16> {
    let tx = db.write().await?;
    let rows = store::signing_keys::lock_all(&tx).await?;
    let kid = rows.iter().map(|r| r.kid).max().unwrap_or(0) + 1;
    let kid16 = u16::try_from(kid).map_err(|_| Error::new(Code::Conflict))?;
    store::signing_keys::set_status(&tx, None, SIGNING, VERIFYING, None).await?;
    // ThreadRng: a CSPRNG seeded from the operating system.
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    store::signing_keys::insert(
        &tx,
        store::signing_keys::new_row(kid, B64.encode(key.verifying_key().as_bytes()), B64.encode(key.to_bytes()), now),
    )
    .await?;
    tx.commit().await?;
    Ok(kid16)
}

/// Withdraws a rotated-out key: it is no longer published and credentials
/// it signed stop verifying (for a key that leaked). The signing key cannot
/// be retired; rotate first.
pub async fn retire(db: &Db, kid: u16, now: DateTime<Utc>) -> Result<()> {
    let tx = db.write().await?;
    store::signing_keys::lock_all(&tx).await?;
    if store::signing_keys::set_status(&tx, Some(i32::from(kid)), VERIFYING, RETIRED, Some(now)).await? == 0 {
        return Err(Error::new(Code::InvalidState)
            .detail("只能停用已轮换下来的密钥", "Only a rotated-out (verifying) key can be retired"));
    }
    tx.commit().await?;
    Ok(())
}

/// What `greenchannel verify-offline` prints, and its exit status.
pub struct OfflineReport {
    pub json: Value,
    pub exit_code: i32,
}

/// Verifies a credential against a published JWK set, with no server.
pub fn verify_offline(input: &str, jwks: &Value, shop_url: Option<&str>) -> anyhow::Result<OfflineReport> {
    use crate::domain::{credential, shop_url as shop};
    let keys = KeySet::from_jwks(jwks)?;
    let parsed = match credential::parse(input) {
        Ok(p) => p,
        Err(e) => {
            return Ok(OfflineReport {
                json: json!({ "result": "malformed", "problem": format!("{e:?}").to_lowercase() }),
                exit_code: 2,
            });
        }
    };
    let c = &parsed.claims;
    let signature_ok = keys.get(&c.kid).is_some_and(|k| parsed.verify(k));
    let shop_matches = match (shop_url, c.shop) {
        (Some(u), Some(bound)) => Some(shop::normalize(u).is_ok_and(|n| credential::shop_binding(&n) == bound)),
        _ => None,
    };
    let result = match (signature_ok, shop_matches) {
        (false, _) => "invalid_signature",
        (true, Some(false)) => "not_displayed_here",
        (true, _) => "signature_valid",
    };
    Ok(OfflineReport {
        json: json!({
            "result": result,
            "kid": c.kid,
            "uscc": c.uscc,
            "licence_version": c.version,
            "issued_at": c.issued_at,
            "shop_bound": c.shop.is_some(),
            "note": "offline: the signature and claims only; revocation, deregistration and newer versions need GET /api/v1/verify/{credential}",
        }),
        exit_code: if result == "signature_valid" { 0 } else { 1 },
    })
}
