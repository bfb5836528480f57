//! Identity: mobile channels vouch for applicants with a signed real-name
//! assertion (a JWT) that is exchanged once for a session; staff and
//! integrators carry API keys.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, TimeZone, Utc};
use ed25519_dalek::{VerifyingKey, pkcs8::DecodePublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    credentials,
};
use crate::{
    domain::{
        FieldError,
        admin_code::AdminCode,
        principal::{Actor, Applicant, Principal, Staff, StaffRole},
        resident_id::ResidentId,
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{self, is_unique_violation},
};

/// Longest an assertion may live (exp − iat), per the contract.
const MAX_ASSERTION_LIFETIME: i64 = 600;
/// Clock skew tolerated between a channel and us.
const LEEWAY_SECONDS: u64 = 30;

pub struct SessionToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub name: String,
    pub id_number_masked: String,
}

/// How a channel signs, as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKey {
    Hs256(String),
    /// Raw 32-byte Ed25519 public key.
    EdDsa([u8; 32]),
}

impl ChannelKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            ChannelKey::Hs256(_) => Algorithm::HS256,
            ChannelKey::EdDsa(_) => Algorithm::EdDSA,
        }
    }

    fn decoding_key(&self) -> DecodingKey {
        match self {
            ChannelKey::Hs256(s) => DecodingKey::from_secret(s.as_bytes()),
            ChannelKey::EdDsa(k) => DecodingKey::from_ed_der(k),
        }
    }

    /// Parses an Ed25519 public key given as PEM (SPKI) or base64url raw bytes.
    pub fn parse_ed25519(input: &str) -> std::result::Result<Self, String> {
        let input = input.trim();
        let key = if input.starts_with("-----BEGIN") {
            VerifyingKey::from_public_key_pem(input).map_err(|e| e.to_string())?
        } else {
            let raw = URL_SAFE_NO_PAD.decode(input.trim_end_matches('=')).map_err(|e| e.to_string())?;
            let raw: [u8; 32] = raw.try_into().map_err(|_| "expected 32 bytes".to_string())?;
            VerifyingKey::from_bytes(&raw).map_err(|e| e.to_string())?
        };
        Ok(ChannelKey::EdDsa(key.to_bytes()))
    }

    fn stored(&self) -> (&'static str, String) {
        match self {
            ChannelKey::Hs256(s) => ("HS256", s.clone()),
            ChannelKey::EdDsa(k) => ("EdDSA", URL_SAFE_NO_PAD.encode(k)),
        }
    }

    fn from_stored(algorithm: &str, material: &str) -> Option<Self> {
        match algorithm {
            "HS256" => Some(ChannelKey::Hs256(material.to_string())),
            "EdDSA" => Self::parse_ed25519(material).ok(),
            _ => None,
        }
    }
}

async fn channel_key(state: &AppState, channel: &str) -> Result<Option<ChannelKey>> {
    // The dev channel exists only when asked for and is never persisted, so
    // a later production start cannot inherit it.
    if channel == "dev" {
        return Ok(state
            .settings
            .dev
            .then(|| ChannelKey::Hs256(state.settings.dev_channel_secret.expose_secret().to_string())));
    }
    Ok(store::channels::find_enabled(state.db.conn(), channel)
        .await?
        .and_then(|c| ChannelKey::from_stored(&c.algorithm, &c.key_material)))
}

fn assertion_error(kind: &ErrorKind) -> Error {
    match kind {
        ErrorKind::InvalidSignature => Error::new(Code::AssertionSignatureInvalid),
        ErrorKind::ExpiredSignature => Error::new(Code::AssertionExpired),
        ErrorKind::ImmatureSignature => {
            Error::new(Code::AssertionMalformed).detail("断言尚未生效（nbf）", "The assertion is not yet valid (nbf)")
        }
        ErrorKind::InvalidIssuer => Error::field(
            Code::AssertionClaimsInvalid,
            FieldError::new("assertion.iss", "invalid_value").with("detail", "iss must equal the channel id"),
        ),
        ErrorKind::InvalidAlgorithm => Error::new(Code::AssertionSignatureInvalid).detail(
            "断言的签名算法与渠道登记的不符",
            "The assertion's algorithm is not the one registered for the channel",
        ),
        ErrorKind::MissingRequiredClaim(c) => {
            Error::field(Code::AssertionClaimsInvalid, FieldError::new(format!("assertion.{c}"), "claim_missing"))
        }
        _ => Error::new(Code::AssertionMalformed),
    }
}

fn claim_str(claims: &Value, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            errors.push(FieldError::new(format!("assertion.{name}"), "empty"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(format!("assertion.{name}"), "invalid_type").with("detail", "string"));
            None
        }
        None => {
            errors.push(FieldError::new(format!("assertion.{name}"), "claim_missing"));
            None
        }
    }
}

/// The identity a channel vouched for, once its assertion is verified.
#[derive(Debug, Clone)]
pub struct VerifiedAssertion {
    pub sub: String,
    pub name: String,
    pub jti: String,
    pub id_number: ResidentId,
    pub phone: Option<String>,
    pub exp: i64,
}

/// Verifies an assertion against the channel's key at `now`: algorithm,
/// signature, issuer, lifetime, and the claims' content. Pure: no I/O, so
/// the single-use `jti` check is the caller's.
pub fn verify_assertion(
    key: &ChannelKey,
    channel: &str,
    assertion: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| Error::new(Code::AssertionMalformed))?;
    if header.alg != key.algorithm() {
        return Err(assertion_error(&ErrorKind::InvalidAlgorithm));
    }
    let mut validation = Validation::new(key.algorithm());
    validation.leeway = LEEWAY_SECONDS;
    validation.set_issuer(&[channel]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.validate_exp = false; // checked below against our clock
    let data = jsonwebtoken::decode::<Value>(assertion, &key.decoding_key(), &validation)
        .map_err(|e| assertion_error(e.kind()))?;
    let claims = data.claims;

    let int = |n: &str| claims.get(n).and_then(Value::as_i64);
    let (Some(iat), Some(exp)) = (int("iat"), int("exp")) else {
        return Err(Error::field(
            Code::AssertionClaimsInvalid,
            FieldError::new("assertion.exp", "invalid_type").with("detail", "NumericDate"),
        ));
    };
    if exp + LEEWAY_SECONDS as i64 <= now.timestamp() {
        return Err(Error::new(Code::AssertionExpired));
    }
    if exp - iat > MAX_ASSERTION_LIFETIME {
        return Err(Error::new(Code::AssertionLifetimeTooLong));
    }
    if iat > now.timestamp() + LEEWAY_SECONDS as i64 {
        return Err(
            Error::new(Code::AssertionMalformed).detail("断言签发时间在未来", "The assertion is issued in the future")
        );
    }

    let mut errors = Vec::new();
    let sub = claim_str(&claims, "sub", &mut errors);
    let name = claim_str(&claims, "name", &mut errors);
    let jti = claim_str(&claims, "jti", &mut errors);
    let id_number = claim_str(&claims, "id_number", &mut errors).and_then(|s| match ResidentId::parse(&s) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push(e.under("assertion.id_number"));
            None
        }
    });
    let phone = claims.get("phone").and_then(Value::as_str).map(str::to_string);
    let (Some(sub), Some(name), Some(jti), Some(id_number)) = (sub, name, jti, id_number) else {
        return Err(Error::new(Code::AssertionClaimsInvalid).with_errors(errors));
    };
    if jti.len() > 200 || name.chars().count() > 50 || sub.len() > 200 {
        return Err(Error::field(
            Code::AssertionClaimsInvalid,
            FieldError::new("assertion", "too_long").with("max", "200"),
        ));
    }
    Ok(VerifiedAssertion { sub, name, jti, id_number, phone, exp })
}

/// Exchanges a channel's signed real-name assertion for a session token.
#[tracing::instrument(skip(state, assertion))]
pub async fn sign_in(state: &AppState, channel: &str, assertion: &str) -> Result<SessionToken> {
    let key = channel_key(state, channel).await?.ok_or_else(|| Error::new(Code::UnknownChannel))?;
    let now = state.now();
    let VerifiedAssertion { sub, name, jti, id_number, phone, exp } = verify_assertion(&key, channel, assertion, now)?;

    let token = credentials::generate(credentials::SESSION_PREFIX);
    let expires_at = now + Duration::minutes(state.settings.session_ttl_minutes);
    let session_id = Uuid::now_v7();
    let token_hash = credentials::hash(&token);
    let exp_at = Utc.timestamp_opt(exp, 0).single().unwrap_or(now);
    // Write-only, so one batch: the replay record, the session, the event.
    let mut batch = state.db.batch();
    let backend = batch.backend();
    batch.push(store::channels::use_assertion(
        backend,
        channel,
        &jti,
        exp_at + Duration::seconds(LEEWAY_SECONDS as i64),
    ));
    batch.push(store::sessions::insert(
        backend,
        store::sessions::NewSession {
            id: session_id,
            token_hash: &token_hash,
            channel_id: channel,
            subject: &sub,
            id_number: id_number.as_str(),
            name: &name,
            phone: phone.as_deref(),
            created_at: now,
            expires_at,
        },
    ));
    let actor = Actor { role: "applicant", id: id_number.to_string(), channel: Some(channel.to_string()) };
    audit::record(
        &batch,
        now,
        &actor,
        "session.created",
        Subject { kind: "session", id: &session_id.to_string() },
        None,
        None,
        json!({ "sub": sub, "jti": jti }),
    )
    .await?;
    // The only unique key a new session can collide on is the `jti`'s (its
    // id and token are fresh random values).
    if let Err(e) = state.db.commit_batch(batch).await {
        return Err(if is_unique_violation(&e) { Error::new(Code::AssertionReplayed) } else { e.into() });
    }
    // The first request with the new token is moments away; it need not
    // read back the row just written.
    if state.settings.auth_cache_seconds > 0 {
        let applicant = Applicant {
            session_id,
            id_number: id_number.clone(),
            name: name.clone(),
            phone,
            channel_id: channel.to_string(),
        };
        state.principals.insert(token_hash, (Principal::Applicant(applicant), expires_at, std::time::Instant::now()));
    }
    Ok(SessionToken { token, expires_at, name, id_number_masked: id_number.masked() })
}

/// Resolves a bearer token to its caller, or `unauthorized`. Recently
/// verified credentials are reused for `auth_cache_seconds` (never past their
/// own expiry).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal> {
    let now = state.now();
    let hash = credentials::hash(token);
    if state.settings.auth_cache_seconds > 0 {
        let fresh = std::time::Duration::from_secs(state.settings.auth_cache_seconds);
        if let Some((p, until, at)) = state.principals.get(&hash)
            && until > now
            && at.elapsed() < fresh
        {
            return Ok(p);
        }
        let (p, until) = lookup(state, token, &hash, now).await?;
        state.principals.insert(hash, (p.clone(), until, std::time::Instant::now()));
        return Ok(p);
    }
    lookup(state, token, &hash, now).await.map(|(p, _)| p)
}

/// The principal behind a credential and when it stops being valid. The
/// prefix says which table holds it.
async fn lookup(state: &AppState, token: &str, hash: &str, now: DateTime<Utc>) -> Result<(Principal, DateTime<Utc>)> {
    let unauthorized = || Error::new(Code::Unauthorized);
    if token.starts_with(credentials::SESSION_PREFIX) {
        let s = store::sessions::find_live(state.db.conn(), hash, now).await?.ok_or_else(unauthorized)?;
        let id_number = ResidentId::parse(&s.id_number).map_err(|_| unauthorized())?;
        let until = s.expires_at;
        let p = Principal::Applicant(Applicant {
            session_id: s.id,
            id_number,
            name: s.name,
            phone: s.phone,
            channel_id: s.channel_id,
        });
        return Ok((p, until));
    }
    if token.starts_with(credentials::API_KEY_PREFIX) {
        let k = store::api_keys::find_live(state.db.conn(), hash, now).await?.ok_or_else(unauthorized)?;
        let role = match k.role.as_str() {
            "reviewer" => StaffRole::Reviewer {
                authority: k.authority.as_deref().and_then(|a| AdminCode::parse(a).ok()).ok_or_else(unauthorized)?,
            },
            "department" => StaffRole::Department { code: k.department_code.clone().ok_or_else(unauthorized)? },
            "platform" => StaffRole::Platform { id: k.platform_id.clone().ok_or_else(unauthorized)? },
            "host" => StaffRole::Host { id: k.host_id.ok_or_else(unauthorized)? },
            "admin" => StaffRole::Admin,
            _ => return Err(unauthorized()),
        };
        let until = k.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        return Ok((Principal::Staff(Staff { key_id: k.id, name: k.name, role }), until));
    }
    Err(unauthorized())
}

pub async fn sign_out(state: &AppState, applicant: &Applicant) -> Result<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    store::sessions::revoke(&tx, applicant.session_id, now).await?;
    let actor =
        Actor { role: "applicant", id: applicant.id_number.to_string(), channel: Some(applicant.channel_id.clone()) };
    audit::record(
        &tx,
        now,
        &actor,
        "session.revoked",
        Subject { kind: "session", id: &applicant.session_id.to_string() },
        None,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    // After the commit, so no request can re-cache the revoked session.
    state.principals.clear();
    Ok(())
}

/// What `keys create` asks for.
pub struct NewApiKey {
    pub role: String,
    pub authority: Option<String>,
    pub department: Option<String>,
    pub platform: Option<String>,
    pub host: Option<Uuid>,
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub struct CreatedKey {
    pub id: Uuid,
    pub key: String,
    pub role: String,
}

/// Creates an API key and returns it in clear, the only time it exists so.
pub async fn create_api_key(state: &AppState, actor: &Actor, k: NewApiKey) -> Result<CreatedKey> {
    let mut errors = Vec::new();
    let authority = match (k.role.as_str(), &k.authority) {
        ("reviewer", None) => {
            errors.push(FieldError::new("authority", "required"));
            None
        }
        (_, Some(a)) => match AdminCode::parse(a) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(e.under("authority"));
                None
            }
        },
        _ => None,
    };
    match k.role.as_str() {
        "reviewer" | "admin" => {}
        "department" if k.department.as_deref().is_none_or(str::is_empty) => {
            errors.push(FieldError::new("department", "required"))
        }
        "platform" if k.platform.as_deref().is_none_or(str::is_empty) => {
            errors.push(FieldError::new("platform", "required"))
        }
        "host" if k.host.is_none() => errors.push(FieldError::new("host", "required")),
        "department" | "platform" | "host" => {}
        _ => errors.push(
            FieldError::new("role", "invalid_value").with("detail", "reviewer, department, platform, host or admin"),
        ),
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let key = credentials::generate(credentials::API_KEY_PREFIX);
    let id = Uuid::now_v7();
    let now = state.now();
    let name = k.name.clone().unwrap_or_else(|| format!("{} key", k.role));
    let tx = state.db.write().await?;
    store::api_keys::insert(
        &tx,
        store::api_keys::NewKey {
            id,
            key_hash: &credentials::hash(&key),
            key_prefix: &key[..12],
            role: &k.role,
            name: &name,
            authority: authority.as_ref().map(AdminCode::as_str),
            department_code: k.department.as_deref(),
            platform_id: k.platform.as_deref(),
            host_id: k.host,
            created_at: now,
            expires_at: k.expires_at,
        },
    )
    .await?;
    audit::record(
        &tx,
        now,
        actor,
        "api_key.created",
        Subject { kind: "api_key", id: &id.to_string() },
        None,
        None,
        json!({ "role": k.role, "authority": k.authority, "department": k.department, "platform": k.platform, "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedKey { id, key, role: k.role })
}

pub async fn revoke_api_key(state: &AppState, actor: &Actor, id: Uuid) -> Result<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    if !store::api_keys::revoke(&tx, id, now).await? {
        return Err(Error::not_found());
    }
    audit::record(
        &tx,
        now,
        actor,
        "api_key.revoked",
        Subject { kind: "api_key", id: &id.to_string() },
        None,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.principals.clear();
    Ok(())
}

/// Registers (or re-keys) a mobile channel.
pub async fn register_channel(state: &AppState, actor: &Actor, id: &str, name: &str, key: &ChannelKey) -> Result<()> {
    if id == "dev"
        || id.is_empty()
        || id.len() > 64
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::field(
            Code::ValidationFailed,
            FieldError::new("id", "invalid_format").with("expected", "1-64 of [A-Za-z0-9_-], not \"dev\""),
        ));
    }
    let (alg, material) = key.stored();
    let now = state.now();
    let tx = state.db.write().await?;
    store::channels::upsert(&tx, id, name, alg, &material, now).await?;
    audit::record(
        &tx,
        now,
        actor,
        "channel.registered",
        Subject { kind: "channel", id },
        None,
        None,
        json!({ "name": name, "algorithm": alg }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
