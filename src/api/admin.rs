//! Administration: mobile channels and API keys (also CLI subcommands).
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApiTags, body::JsonBody, security::BearerAuth};
use crate::{
    domain::FieldError,
    error::{Error, Result},
    services::{self, auth::ChannelKey},
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
                name: k.name,
                expires_at: k.expires_at,
            },
        )
        .await?;
        Ok(KeySaved::Created(Json(ApiKeyCreated { id: created.id, role: created.role, key: created.key })))
    }

    /// Revoke an API key
    #[oai(path = "/api/v1/admin/api-keys/:id", method = "delete", operation_id = "revoke_api_key")]
    async fn revoke_key(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Revoked> {
        let admin = auth.admin()?;
        services::auth::revoke_api_key(&state, &admin.actor(), id.0).await?;
        Ok(Revoked::NoContent)
    }
}
