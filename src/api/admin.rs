//! Administration: mobile channels and API keys (also CLI subcommands).
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApiTags, body::JsonBody, security::BearerAuth};
use crate::{
    domain::{FieldError, resident_id::ResidentId, uscc::Uscc},
    error::{Error, Result},
    services::{
        self,
        admin::{NewRestriction, RestrictedSubject},
        auth::ChannelKey,
    },
    state::AppState,
};

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
pub enum ChannelAlgorithm {
    HS256,
    EdDSA,
}

#[derive(Debug, Object, Deserialize)]
pub struct ChannelInput {
    /// The id the channel puts in `iss`.
    pub id: String,
    pub name: String,
    pub algorithm: ChannelAlgorithm,
    /// HS256: the shared secret (at least 32 bytes). EdDSA: the Ed25519
    /// public key, PEM or base64url of the 32 raw bytes.
    pub key: String,
}

#[derive(Debug, Object)]
pub struct ChannelView {
    pub id: String,
    pub name: String,
    pub algorithm: String,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    Reviewer,
    Department,
    Platform,
    /// An address host (e-commerce park, incubator), bound to `host`.
    Host,
    Admin,
}

#[derive(Debug, Object, Deserialize)]
pub struct ApiKeyInput {
    pub role: KeyRole,
    /// Reviewers: the registration authority's 6-digit county code.
    #[serde(default)]
    pub authority: Option<String>,
    /// Department officers: the department code.
    #[serde(default)]
    pub department: Option<String>,
    /// Platforms: the platform id.
    #[serde(default)]
    pub platform: Option<String>,
    /// Hosts: the address host's id.
    #[serde(default)]
    pub host: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct ApiKeyCreated {
    pub id: Uuid,
    pub role: String,
    /// The key, shown this once; only its hash is stored.
    pub key: String,
}

#[derive(ApiResponse)]
enum ChannelSaved {
    #[oai(status = 201)]
    Created(Json<ChannelView>),
}

#[derive(ApiResponse)]
enum KeySaved {
    #[oai(status = 201)]
    Created(Json<ApiKeyCreated>),
}

#[derive(ApiResponse)]
enum Revoked {
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RestrictedKind {
    Person,
    Enterprise,
}

/// A person (`id_number`) or enterprise (`uscc`) barred from office.
#[derive(Debug, Object, Deserialize)]
pub struct RestrictionInput {
    pub kind: RestrictedKind,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub uscc: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub reason: String,
    /// The list or decision, e.g. 最高人民法院失信被执行人名单.
    pub source: String,
    pub listed_on: chrono::NaiveDate,
    #[serde(default)]
    pub expires_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Object)]
pub struct RestrictionCreated {
    pub id: Uuid,
}

#[derive(Debug, Object, Deserialize)]
pub struct RestrictionImport {
    /// CSV with a header row: `kind,subject,name,reason,source,listed_on,expires_on`.
    pub csv: String,
}

#[derive(Debug, Object)]
pub struct RestrictionImported {
    pub ids: Vec<Uuid>,
}

#[derive(Debug, Object, Deserialize)]
pub struct RevocationInput {
    pub reason: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct AbnormalInput {
    /// true to list, false to clear.
    pub abnormal: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Object)]
pub struct EnterpriseStatusView {
    pub uscc: String,
    pub status: String,
    pub abnormal: bool,
    #[oai(skip_serializing_if_is_none)]
    pub abnormal_reason: Option<String>,
}

impl From<crate::store::enterprises::Row> for EnterpriseStatusView {
    fn from(r: crate::store::enterprises::Row) -> Self {
        EnterpriseStatusView {
            uscc: r.uscc,
            status: r.status,
            abnormal: r.abnormal,
            abnormal_reason: r.abnormal_reason,
        }
    }
}

#[derive(ApiResponse)]
enum RestrictionSaved {
    #[oai(status = 201)]
    Created(Json<RestrictionCreated>),
}

#[derive(ApiResponse)]
enum RestrictionsImported {
    #[oai(status = 201)]
    Created(Json<RestrictionImported>),
}

pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Register or re-key a mobile channel
    #[oai(path = "/api/v1/admin/channels", method = "post", operation_id = "register_channel")]
    async fn register_channel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ChannelInput>,
    ) -> Result<ChannelSaved> {
        let admin = auth.admin()?;
        let c = body.0;
        let key = match c.algorithm {
            ChannelAlgorithm::HS256 if c.key.len() >= 32 => ChannelKey::Hs256(c.key.clone()),
            ChannelAlgorithm::HS256 => {
                return Err(Error::validation(vec![
                    FieldError::new("key", "invalid_length").with("expected", "at least 32 bytes"),
                ]));
            }
            ChannelAlgorithm::EdDSA => ChannelKey::parse_ed25519(&c.key)
                .map_err(|e| Error::validation(vec![FieldError::new("key", "invalid_value").with("detail", e)]))?,
        };
        let name = super::form::text_field(&c.name, "name", 60).map_err(|e| Error::validation(vec![e]))?;
        services::auth::register_channel(&state, &admin.actor(), c.id.trim(), &name, &key).await?;
        let algorithm = match key {
            ChannelKey::Hs256(_) => "HS256",
            ChannelKey::EdDsa(_) => "EdDSA",
        };
        Ok(ChannelSaved::Created(Json(ChannelView { id: c.id.trim().into(), name, algorithm: algorithm.into() })))
    }

    /// Create an API key
    #[oai(path = "/api/v1/admin/api-keys", method = "post", operation_id = "create_api_key")]
    async fn create_key(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ApiKeyInput>,
    ) -> Result<KeySaved> {
        let admin = auth.admin()?;
        let k = body.0;
        let role = match k.role {
            KeyRole::Reviewer => "reviewer",
            KeyRole::Department => "department",
            KeyRole::Platform => "platform",
            KeyRole::Host => "host",
            KeyRole::Admin => "admin",
        };
        let created = services::auth::create_api_key(
            &state,
            &admin.actor(),
            services::auth::NewApiKey {
                role: role.into(),
                authority: k.authority,
                department: k.department,
                platform: k.platform,
                host: k.host,
                name: k.name,
                expires_at: k.expires_at,
            },
        )
        .await?;
        Ok(KeySaved::Created(Json(ApiKeyCreated { id: created.id, role: created.role, key: created.key })))
    }

    /// Add a credit restriction
    #[oai(path = "/api/v1/admin/restrictions", method = "post", operation_id = "add_restriction")]
    async fn add_restriction(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<RestrictionInput>,
    ) -> Result<RestrictionSaved> {
        let admin = auth.admin()?;
        let r = body.0;
        let subject = match r.kind {
            RestrictedKind::Person => ResidentId::parse(r.id_number.as_deref().unwrap_or_default())
                .map(RestrictedSubject::Person)
                .map_err(|e| Error::validation(vec![e.under("id_number")]))?,
            RestrictedKind::Enterprise => Uscc::parse(r.uscc.as_deref().unwrap_or_default())
                .map(RestrictedSubject::Enterprise)
                .map_err(|e| Error::validation(vec![e.under("uscc")]))?,
        };
        let reason = super::form::text_field(&r.reason, "reason", 500).map_err(|e| Error::validation(vec![e]))?;
        let source = super::form::text_field(&r.source, "source", 200).map_err(|e| Error::validation(vec![e]))?;
        let id = services::admin::add_restriction(
            &state,
            &admin.actor(),
            NewRestriction { subject, name: r.name, reason, source, listed_on: r.listed_on, expires_on: r.expires_on },
        )
        .await?;
        Ok(RestrictionSaved::Created(Json(RestrictionCreated { id })))
    }

    /// Import credit restrictions from CSV (all or nothing)
    #[oai(path = "/api/v1/admin/restrictions/import", method = "post", operation_id = "import_restrictions")]
    async fn import_restrictions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<RestrictionImport>,
    ) -> Result<RestrictionsImported> {
        let admin = auth.admin()?;
        let rs = services::admin::parse_restrictions_csv(&body.0.csv).map_err(Error::validation)?;
        let ids = services::admin::add_restrictions(&state, &admin.actor(), rs).await?;
        Ok(RestrictionsImported::Created(Json(RestrictionImported { ids })))
    }

    /// Lift a credit restriction
    #[oai(path = "/api/v1/admin/restrictions/:id", method = "delete", operation_id = "lift_restriction")]
    async fn lift_restriction(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Revoked> {
        let admin = auth.admin()?;
        services::admin::lift_restriction(&state, &admin.actor(), id.0).await?;
        Ok(Revoked::NoContent)
    }

    /// Revoke an enterprise's business licence
    #[oai(path = "/api/v1/admin/enterprises/:uscc/revocation", method = "post", operation_id = "revoke_enterprise")]
    async fn revoke_enterprise(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
        body: JsonBody<RevocationInput>,
    ) -> Result<Json<EnterpriseStatusView>> {
        let admin = auth.admin()?;
        let code = super::enterprises::parse_uscc(&uscc.0)?;
        Ok(Json(services::admin::revoke(&state, &admin.actor(), &code, body.0.reason).await?.into()))
    }

    /// Flag or clear abnormal operation
    #[oai(path = "/api/v1/admin/enterprises/:uscc/abnormal", method = "post", operation_id = "set_enterprise_abnormal")]
    async fn set_abnormal(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
        body: JsonBody<AbnormalInput>,
    ) -> Result<Json<EnterpriseStatusView>> {
        let admin = auth.admin()?;
        let code = super::enterprises::parse_uscc(&uscc.0)?;
        Ok(Json(
            services::admin::set_abnormal(&state, &admin.actor(), &code, body.0.abnormal, body.0.reason).await?.into(),
        ))
    }

    /// Revoke an API key
    #[oai(path = "/api/v1/admin/api-keys/:id", method = "delete", operation_id = "revoke_api_key")]
    async fn revoke_key(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Revoked> {
        let admin = auth.admin()?;
        services::auth::revoke_api_key(&state, &admin.actor(), id.0).await?;
        Ok(Revoked::NoContent)
    }
}
