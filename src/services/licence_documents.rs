//! Serving licence documents: the PDF of any licence version and the
//! storefront badge, each with its signed credential in the QR code.
//!
//! A licence version never changes, so a rendered document is cached by
//! what determines its bytes (code, version, superseded or not, shop) and
//! served with a content ETag; the signing key is part of the bytes too, so
//! the cache is dropped when the keys change. Rendering runs on the
//! blocking pool.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::standing::Snapshot;
use crate::{
    documents::{badge, licence_pdf},
    domain::{
        FieldError,
        credential::{self, Claims},
        licence::LicenceContent,
        shop_url,
        uscc::Uscc,
    },
    error::{Code, Error, Result},
    state::AppState,
    store,
};

/// A rendered document and its strong ETag.
pub struct Document {
    /// Shared, so serving a cached document copies no bytes.
    pub bytes: bytes::Bytes,
    pub etag: String,
    /// The licence version it shows.
    pub version: i32,
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Key {
    uscc: String,
    version: i32,
    superseded: bool,
    /// `None`: the PDF; `Some(shop)`: a badge, `""` when not bound to a shop.
    badge_for: Option<String>,
}

pub struct DocumentCache(moka::sync::Cache<Key, Arc<Document>>);

impl Default for DocumentCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DocumentCache {
    pub fn new() -> Self {
        DocumentCache(
            moka::sync::Cache::builder()
                .weigher(|_, d: &Arc<Document>| u32::try_from(d.bytes.len()).unwrap_or(u32::MAX))
                .max_capacity(64 * 1024 * 1024)
                .build(),
        )
    }

    pub fn clear(&self) {
        self.0.invalidate_all();
    }
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

async fn snapshot(state: &AppState, uscc: &Uscc) -> Result<Arc<Snapshot>> {
    state.standings.get(&state.db, uscc).await?.ok_or_else(Error::not_found)
}

/// The credential for a licence version (see [`KeySet::for_version`]).
///
/// [`KeySet::for_version`]: super::signing::KeySet::for_version
pub fn mint(state: &AppState, facts: &VersionFacts, shop: Option<&str>) -> Result<String> {
    let keys = state.keys.current();
    let (kid, key) =
        keys.for_version(facts.signing_kid).ok_or_else(|| Error::internal(anyhow::anyhow!("no signing key")))?;
    let claims = Claims {
        kid,
        uscc: Uscc::parse(&facts.uscc)
            .map_err(|_| Error::internal(anyhow::anyhow!("stored code {} is invalid", facts.uscc)))?,
        version: u16::try_from(facts.version).unwrap_or(u16::MAX),
        issued_at: facts.issued_at,
        shop: shop.map(credential::shop_binding),
    };
    Ok(credential::issue(key, &claims))
}

/// What minting a credential for a licence version needs.
pub struct VersionFacts {
    pub uscc: String,
    pub version: i32,
    pub issued_at: DateTime<Utc>,
    pub signing_kid: Option<i32>,
}

/// The URL a QR code opens.
pub fn verify_url(state: &AppState, credential: &str) -> String {
    format!("{}/v/{credential}", state.public_base_url.trim_end_matches('/'))
}

async fn version_row(state: &AppState, snap: &Snapshot, version: i32) -> Result<store::enterprises::LicenceRow> {
    store::enterprises::licence(state.db.conn(), snap.enterprise_id, version).await?.ok_or_else(Error::not_found)
}

fn content_of(row: &store::enterprises::LicenceRow) -> Result<LicenceContent> {
    serde_json::from_str(&row.content).map_err(|e| Error::internal(anyhow::anyhow!("licence content {}: {e}", row.id)))
}

fn facts(snap: &Snapshot, row: &store::enterprises::LicenceRow) -> VersionFacts {
    VersionFacts {
        uscc: snap.uscc.to_string(),
        version: row.version,
        issued_at: row.issued_at,
        signing_kid: row.signing_kid,
    }
}

async fn render(f: impl FnOnce() -> Result<Vec<u8>> + Send + 'static, version: i32) -> Result<Arc<Document>> {
    let bytes = tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(anyhow::anyhow!(e)))??;
    Ok(Arc::new(Document { etag: etag(&bytes), bytes: bytes.into(), version }))
}

/// The PDF of a licence version (the current one by default). Older
/// versions are stamped as superseded.
pub async fn licence_pdf(state: &AppState, uscc: &Uscc, version: Option<i32>) -> Result<Arc<Document>> {
    let snap = snapshot(state, uscc).await?;
    let version = version.unwrap_or(snap.licence_version);
    if !(1..=snap.licence_version).contains(&version) {
        return Err(Error::not_found());
    }
    let superseded = version < snap.licence_version;
    let key = Key { uscc: snap.uscc.to_string(), version, superseded, badge_for: None };
    if let Some(d) = state.documents.0.get(&key) {
        return Ok(d);
    }
    let row = version_row(state, &snap, version).await?;
    let content = content_of(&row)?;
    let url = verify_url(state, &mint(state, &facts(&snap, &row), None)?);
    let stamp = superseded
        .then(|| licence_pdf::Superseded { by_version: version + 1, at: row.superseded_at.unwrap_or(row.issued_at) });
    let doc = render(
        move || licence_pdf::render(&content, &url, stamp.as_ref()).map_err(|e| Error::internal(anyhow::anyhow!(e))),
        version,
    )
    .await?;
    state.documents.0.insert(key, doc.clone());
    Ok(doc)
}

/// The storefront badge of the current licence. With `shop_url` (which the
/// owner must have declared or registered), the credential is bound to
/// that shop, so the badge copied elsewhere verifies as not displayed there.
pub async fn badge(state: &AppState, uscc: &Uscc, shop_url: Option<&str>) -> Result<Arc<Document>> {
    let snap = snapshot(state, uscc).await?;
    let shop = match shop_url.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(u) => {
            let n = shop_url::normalize(u).map_err(|e| Error::validation(vec![e.under("shop_url")]))?;
            if snap.display_urls.binary_search(&n).is_err() {
                return Err(Error::validation(vec![FieldError::new("shop_url", "not_declared")]));
            }
            Some(n)
        }
    };
    if snap.status() != "active" {
        return Err(Error::new(Code::InvalidState).detail("营业执照已失效，不能亮照", "The licence is no longer valid"));
    }
    let key = Key {
        uscc: snap.uscc.to_string(),
        version: snap.licence_version,
        superseded: false,
        badge_for: Some(shop.clone().unwrap_or_default()),
    };
    if let Some(d) = state.documents.0.get(&key) {
        return Ok(d);
    }
    let row = version_row(state, &snap, snap.licence_version).await?;
    let url = verify_url(state, &mint(state, &facts(&snap, &row), shop.as_deref())?);
    let (name, code) = (snap.name().map(str::to_string), snap.uscc);
    let doc = render(move || Ok(badge::svg(name.as_deref(), &code, &url).into_bytes()), snap.licence_version).await?;
    state.documents.0.insert(key, doc.clone());
    Ok(doc)
}

/// What the verification page shows beyond the standing: the licence as
/// printed and the permit status of each licensed item.
pub async fn page_facts(
    state: &AppState,
    snap: &Snapshot,
) -> Result<(LicenceContent, Vec<super::notifications::Permit>)> {
    let row = version_row(state, snap, snap.licence_version).await?;
    let notifications = store::notifications::for_enterprise(state.db.conn(), snap.enterprise_id).await?;
    Ok((content_of(&row)?, super::notifications::permit_statuses(&notifications)))
}

/// The verification URL of an enterprise's current licence.
pub fn current_verify_url(state: &AppState, rec: &super::enterprises::EnterpriseRecord) -> Result<Option<String>> {
    let Some(row) = rec.licences.iter().find(|l| l.version == rec.row.licence_version) else { return Ok(None) };
    let f = VersionFacts {
        uscc: rec.row.uscc.clone(),
        version: row.version,
        issued_at: row.issued_at,
        signing_kid: row.signing_kid,
    };
    Ok(Some(verify_url(state, &mint(state, &f, None)?)))
}
