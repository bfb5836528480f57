//! Verifying displayed licences: the JSON answer for apps and platforms,
//! the page a phone opens from a storefront QR code, and the public keys
//! for offline verification.
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use poem::{IntoResponse, Request, Response, web::Data};
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi, SecurityScheme,
    param::{Path, Query},
    payload::{Html, Json},
    registry::{MetaResponses, Registry},
};

use serde::Serialize;

use super::{ApiTags, body::PrecomputedJson, form::EntityTypeWire, page, security::BearerAuth};
use crate::{
    domain::{FieldError, entity_type::EntityType, verification::Verdict},
    error::{Code, Error, Result},
    i18n::Lang,
    services::{
        self,
        standing::Snapshot,
        verification::{self, Outcome},
    },
    state::AppState,
};

/// A verification result (API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum VerificationResult {
    Valid,
    NameMismatch,
    Deregistered,
    Revoked,
    Superseded,
    NotFound,
    InvalidSignature,
    NotDisplayedHere,
    Malformed,
}

impl From<Verdict> for VerificationResult {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Valid => Self::Valid,
            Verdict::NameMismatch => Self::NameMismatch,
            Verdict::Deregistered => Self::Deregistered,
            Verdict::Revoked => Self::Revoked,
            Verdict::Superseded => Self::Superseded,
            Verdict::NotFound => Self::NotFound,
            Verdict::InvalidSignature => Self::InvalidSignature,
            Verdict::NotDisplayedHere => Self::NotDisplayedHere,
            Verdict::Malformed => Self::Malformed,
        }
    }
}

/// What the credential itself says (signed; before any live check).
#[derive(Debug, Object, Serialize)]
pub struct CredentialView {
    pub kid: u16,
    pub uscc: String,
    pub licence_version: u16,
    #[serde(serialize_with = "rfc3339")]
    pub issued_at: DateTime<Utc>,
    /// Bound to one shop URL (a storefront badge) rather than valid anywhere.
    pub shop_bound: bool,
}

/// The public summary of the enterprise behind a verification.
#[derive(Debug, Object, Serialize)]
pub struct VerifiedEnterprise {
    pub uscc: String,
    #[oai(nullable)]
    pub name: Option<String>,
    pub entity_type: EntityTypeWire,
    /// `active`, `deregistered` or `revoked`.
    pub status: String,
    pub abnormal: bool,
    /// Legal representative or operator: the name only.
    pub representative_name: String,
    /// The current licence version.
    pub licence_version: i32,
    pub established_on: NaiveDate,
    pub authority_name: String,
}

impl VerifiedEnterprise {
    pub fn new(s: &Snapshot) -> Self {
        VerifiedEnterprise {
            uscc: s.uscc.to_string(),
            name: s.name().map(String::from),
            entity_type: super::form::entity_type_wire(s.entity_type().unwrap_or(EntityType::IndividualBusiness)),
            status: s.status().to_string(),
            abnormal: s.abnormal,
            representative_name: s.representative().to_string(),
            licence_version: s.licence_version,
            established_on: s.established_on,
            authority_name: s.authority_name().to_string(),
        }
    }
}

/// Serialised with serde straight to text (see [`render`]): this is the
/// hottest response in the service.
#[derive(Debug, Object, Serialize)]
pub struct VerificationView {
    pub result: VerificationResult,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialView>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<VerifiedEnterprise>,
    /// For `malformed`: the input field that could not be parsed.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Times as poem-openapi writes them elsewhere in the API (RFC 3339, `+00:00`).
pub fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// A response body rendered by serde without an intermediate JSON tree.
pub fn render<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(anyhow::anyhow!(e)))
}

impl From<Outcome> for VerificationView {
    fn from(o: Outcome) -> Self {
        VerificationView {
            result: o.verdict.into(),
            credential: o.claims.map(|c| CredentialView {
                kid: c.kid,
                uscc: c.uscc.to_string(),
                licence_version: c.version,
                issued_at: c.issued_at,
                shop_bound: c.shop.is_some(),
            }),
            enterprise: o.snapshot.as_deref().map(VerifiedEnterprise::new),
            problem: o.problem.map(str::to_string),
        }
    }
}

/// A platform's API key, or nobody (public, rate-limited per client).
#[derive(SecurityScheme)]
pub enum OptionalAuth {
    Key(BearerAuth),
    #[oai(fallback)]
    Anonymous,
}

/// The client address for per-client limits: the configured proxy header
/// when set (the proxy is trusted to overwrite it), else the peer.
pub fn client_ip(req: &Request, state: &AppState) -> IpAddr {
    state
        .settings
        .client_ip_header
        .as_deref()
        .and_then(|h| req.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Spends the caller's rate: a platform key's own, or the client's public one.
/// A key that fails to authenticate is refused rather than treated as public.
fn spend(state: &AppState, req: &Request, auth: &OptionalAuth, n: u32) -> Result<()> {
    match auth {
        OptionalAuth::Key(k) => match &k.0 {
            crate::domain::principal::Principal::Staff(s) => state.verifier.limit_platform(s.key_id, n),
            _ => state.verifier.limit_public(client_ip(req, state)),
        },
        OptionalAuth::Anonymous if req.headers().contains_key("authorization") => Err(Error::new(Code::Unauthorized)),
        OptionalAuth::Anonymous => state.verifier.limit_public(client_ip(req, state)),
    }
}

/// API.md: a single verification of something unparseable is 400.
fn malformed(field: &str) -> Error {
    Error::field(Code::BadRequest, FieldError::new(field, "malformed"))
}

#[derive(ApiResponse)]
enum KeySetResponse {
    /// JWK set (RFC 7517/8037): `kty` `OKP`, `crv` `Ed25519`, `kid` the
    /// decimal key id carried in each credential.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse)]
enum PageResponse {
    /// The verification page.
    #[oai(status = 200)]
    Ok(Html<String>, #[oai(header = "Cache-Control")] String),
    /// Not a credential this service issues: a page saying so (a request
    /// the page cannot even read gets a problem document).
    #[oai(status = 400)]
    Malformed(Html<String>),
    /// Too many scans from this client: a page saying so.
    #[oai(status = 429)]
    TooMany(Html<String>, #[oai(header = "Retry-After")] u64),
}

/// The page, or a problem (a 500 or 503: the page could not be made).
/// Documented as one response per status, so that 400 and 429 name both
/// media types: the page saying so, or a problem document for a request
/// the page never saw (an undecodable path, say). `Result` would list those
/// statuses twice, and readers of the spec keep only the second.
struct PageResult(Result<PageResponse>, Lang);

impl ApiResponse for PageResult {
    fn meta() -> MetaResponses {
        let mut meta = PageResponse::meta();
        for problem in Error::meta().responses {
            match meta.responses.iter_mut().find(|r| r.status == problem.status) {
                Some(page) => page.content.extend(problem.content),
                None => meta.responses.push(problem),
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        PageResponse::register(registry);
        Error::register(registry);
    }
}

impl IntoResponse for PageResult {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(page) => page.into_response(),
            Err(e) => super::problem::render(&e, self.1),
        }
    }
}

pub struct VerifyApi;

#[OpenApi(tag = "ApiTags::Verification")]
impl VerifyApi {
    /// Verify a scanned credential
    ///
    /// The credential as scanned (or the whole `/v/…` URL, URL-encoded).
    /// `shop_url` is the page where the badge was seen: a badge bound to
    /// another shop, or a shop the owner did not declare, answers
    /// `not_displayed_here`. With a platform key the key's rate applies;
    /// without, a per-client public rate. A credential that cannot be
    /// parsed is 400.
    #[oai(path = "/api/v1/verify/:credential", method = "get", operation_id = "verify_credential")]
    async fn verify(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: OptionalAuth,
        credential: Path<String>,
        shop_url: Query<Option<String>>,
    ) -> Result<PrecomputedJson<VerificationView>> {
        spend(&state, req, &auth, 1)?;
        let via = if matches!(auth, OptionalAuth::Key(_)) { "key" } else { "public" };
        match verification::credential(&state, &credential.0, shop_url.0.as_deref(), via).await? {
            Ok(o) => Ok(PrecomputedJson::new(render(&VerificationView::from(o))?)),
            Err(field) => Err(malformed(field)),
        }
    }

    /// Public keys for offline verification
    ///
    /// Every key that signed a credential still in use, until it is retired.
    #[oai(path = "/.well-known/greenchannel/keys.json", method = "get", operation_id = "signing_keys")]
    async fn keys(&self, state: Data<&AppState>) -> Result<KeySetResponse> {
        Ok(KeySetResponse::Ok(Json(state.keys.current().jwks()), "public, max-age=300".into()))
    }

    /// Verification page
    ///
    /// What a phone opens when it scans a storefront QR code: at a glance,
    /// whether the licence is valid, superseded, deregistered or revoked,
    /// with the public facts. zh-CN or en per `Accept-Language` (or `?lang=`).
    #[oai(path = "/v/:credential", method = "get", operation_id = "verification_page")]
    async fn page(
        &self,
        state: Data<&AppState>,
        req: &Request,
        lang: Lang,
        credential: Path<String>,
        #[oai(name = "lang")] lang_param: Query<Option<String>>,
    ) -> PageResult {
        let lang = match lang_param.0.as_deref() {
            Some(l) => Lang::from_accept_language(Some(l)),
            None => lang,
        };
        PageResult(verification_page(&state, req, lang, &credential.0).await, lang)
    }
}

/// The page for `credential`, in `lang`.
async fn verification_page(state: &AppState, req: &Request, lang: Lang, credential: &str) -> Result<PageResponse> {
    if let Err(e) = state.verifier.limit_public(client_ip(req, state)) {
        return Ok(PageResponse::TooMany(page::too_many(lang), e.retry_after.unwrap_or(60)));
    }
    let outcome = match verification::credential(state, credential, None, "page").await? {
        Ok(o) => o,
        Err(_) => return Ok(PageResponse::Malformed(page::malformed(lang))),
    };
    let facts = match &outcome.snapshot {
        Some(s) => Some(services::licence_documents::page_facts(state, s).await?),
        None => None,
    };
    Ok(PageResponse::Ok(page::verification(lang, &outcome, facts.as_ref()), "no-store".into()))
}
