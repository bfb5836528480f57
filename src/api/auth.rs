//! Signing in from a mobile channel, and who am I.
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde::Deserialize;

use super::{ApiTags, body::JsonBody, security::BearerAuth};
use crate::{
    domain::principal::{Principal, StaffRole},
    error::Result,
    services,
    state::AppState,
};

#[derive(Debug, Object, Deserialize)]
pub struct ChannelSignIn {
    /// The registered channel id (the assertion's `iss`).
    pub channel: String,
    /// A JWT signed by the channel: `iss`, `sub`, `name`, `id_number`,
    /// `phone`, `iat`, `exp` (at most 10 minutes after `iat`), `jti` (single use).
    pub assertion: String,
}

#[derive(Debug, Object)]
pub struct SessionView {
    /// Bearer token for later requests. Shown once.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub name: String,
    pub id_number_masked: String,
}

#[derive(Debug, Object)]
pub struct WhoAmI {
    /// `applicant`, `reviewer`, `department`, `platform` or `admin`.
    pub role: String,
    pub name: String,
    #[oai(skip_serializing_if_is_none)]
    pub id_number_masked: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub channel: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub authority: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub department: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub platform: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub host: Option<uuid::Uuid>,
}

#[derive(ApiResponse)]
enum SignedIn {
    /// A new session.
    #[oai(status = 201)]
    Created(Json<SessionView>),
}

#[derive(ApiResponse)]
enum SignedOut {
    /// The session is revoked.
    #[oai(status = 204)]
    NoContent,
}

pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in with a channel's real-name assertion
    ///
    /// Rejects an unknown channel, a bad signature, an expired or over-long
    /// assertion, a replayed `jti` and an invalid resident ID, each with its
    /// own problem code.
    #[oai(path = "/api/v1/auth/channel", method = "post", operation_id = "sign_in_channel")]
    async fn sign_in(&self, state: Data<&AppState>, body: JsonBody<ChannelSignIn>) -> Result<SignedIn> {
        let s = services::auth::sign_in(&state, body.0.channel.trim(), body.0.assertion.trim()).await?;
        Ok(SignedIn::Created(Json(SessionView {
            token: s.token,
            expires_at: s.expires_at,
            name: s.name,
            id_number_masked: s.id_number_masked,
        })))
    }

    /// Sign out (revoke this session)
    #[oai(path = "/api/v1/auth/session", method = "delete", operation_id = "sign_out")]
    async fn sign_out(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<SignedOut> {
        services::auth::sign_out(&state, auth.applicant()?).await?;
        Ok(SignedOut::NoContent)
    }

    /// Who the credential belongs to
    #[oai(path = "/api/v1/auth/me", method = "get", operation_id = "who_am_i")]
    async fn me(&self, auth: BearerAuth) -> Result<Json<WhoAmI>> {
        let mut me = WhoAmI {
            role: String::new(),
            name: String::new(),
            id_number_masked: None,
            channel: None,
            authority: None,
            department: None,
            platform: None,
            host: None,
        };
        match &auth.0 {
            Principal::Applicant(a) => {
                me.role = "applicant".into();
                me.name = a.name.clone();
                me.id_number_masked = Some(a.id_number.masked());
                me.channel = Some(a.channel_id.clone());
            }
            Principal::Staff(s) => {
                me.role = s.role.as_str().into();
                me.name = s.name.clone();
                match &s.role {
                    StaffRole::Reviewer { authority } => me.authority = Some(authority.to_string()),
                    StaffRole::Department { code } => me.department = Some(code.clone()),
                    StaffRole::Platform { id } => me.platform = Some(id.clone()),
                    StaffRole::Host { id } => me.host = Some(*id),
                    StaffRole::Admin => {}
                }
            }
        }
        Ok(Json(me))
    }
}
