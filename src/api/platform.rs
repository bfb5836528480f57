//! Platform API (API keys of role `platform`): batch verification, the
//! watch-list, the change feed and the webhook it is pushed to.
use crate::domain::uscc::Uscc;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json, types::Any};
use serde::{Deserialize, Serialize};

use super::{
    ApiTags,
    body::{JsonBody, PrecomputedJson},
    security::BearerAuth,
    verify::{VerificationView, VerifiedEnterprise},
};
use crate::{
    domain::FieldError,
    error::{Error, Result},
    services::{self, platforms, verification::Item},
    state::AppState,
};

/// Most items one batch may carry.
pub const MAX_BATCH: usize = 1_000;

/// One shop to check: a code and the name it shows, or a scanned credential;
/// `shop_url` is where it is displayed.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "BatchVerificationItem")]
pub struct BatchItem {
    pub uscc: Option<String>,
    pub name: Option<String>,
    pub credential: Option<String>,
    pub shop_url: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
pub struct BatchVerificationRequest {
    /// 1 to 1,000 items.
    pub items: Vec<BatchItem>,
}

#[derive(Debug, Object, Serialize)]
pub struct BatchVerificationResult {
    /// Position of the item in the request.
    pub index: u32,
    #[oai(flatten)]
    #[serde(flatten)]
    pub verification: VerificationView,
}

#[derive(Debug, Object, Serialize)]
pub struct BatchVerificationResponse {
    pub results: Vec<BatchVerificationResult>,
}

/// Replace the watch-list (`usccs`), or change it (`add`, `remove`);
/// up to 20,000 codes per request.
#[derive(Debug, Object, Deserialize)]
pub struct WatchlistInput {
    pub usccs: Option<Vec<String>>,
    #[serde(default)]
    pub add: Option<Vec<String>>,
    #[serde(default)]
    pub remove: Option<Vec<String>>,
}

#[derive(Debug, Object)]
pub struct WatchlistView {
    /// How many enterprises are watched now.
    pub watched: u64,
}

#[derive(Debug, Object)]
pub struct PlatformEvent {
    /// Resume after this event with `?after=<cursor>`.
    pub cursor: String,
    pub uscc: String,
    /// `licence.reissued`, `status.changed`, `abnormal.changed`, `permit.changed`, `display.changed`.
    pub kind: String,
    pub detail: Any<serde_json::Value>,
    pub occurred_at: DateTime<Utc>,
    /// The enterprise as verification sees it now (absent if unknown).
    #[oai(skip_serializing_if_is_none)]
    pub enterprise: Option<VerifiedEnterprise>,
}

#[derive(Debug, Object)]
pub struct PlatformEventPage {
    pub events: Vec<PlatformEvent>,
    /// Where to resume: the last event's cursor, or `after` when none came.
    pub next_cursor: String,
}

#[derive(Debug, Object)]
pub struct PlatformView {
    pub id: String,
    #[oai(nullable)]
    pub webhook_url: Option<String>,
    pub watched: u64,
}

#[derive(Debug, Object, Deserialize)]
pub struct WebhookInput {
    pub url: String,
    /// HMAC-SHA256 key for `X-Greenchannel-Signature` (16 to 200 bytes).
    pub secret: String,
}

pub struct PlatformApi;

#[OpenApi(tag = "ApiTags::Platform")]
impl PlatformApi {
    /// Verify a batch
    ///
    /// Up to 1,000 items, each answered in order with a result value and the
    /// enterprise summary. An item that cannot be parsed is `malformed` (with
    /// the field in `problem`) without failing the rest. The batch spends as
    /// many units of the key's rate as it has items.
    #[oai(path = "/api/v1/platform/verifications", method = "post", operation_id = "verify_batch")]
    async fn batch(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<BatchVerificationRequest>,
    ) -> Result<PrecomputedJson<BatchVerificationResponse>> {
        auth.platform()?;
        let items = body.0.items;
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(Error::validation(vec![
                FieldError::new("items", "invalid_length").with("expected", format!("1..={MAX_BATCH}")),
            ]));
        }
        if let crate::domain::principal::Principal::Staff(s) = &auth.0 {
            state.verifier.limit_platform(s.key_id, items.len() as u32)?;
        }
        let items: Vec<Item> = items
            .into_iter()
            .map(|i| Item { uscc: i.uscc, name: i.name, credential: i.credential, shop_url: i.shop_url })
            .collect();
        let outcomes = services::verification::batch(&state, &items).await?;
        let response = BatchVerificationResponse {
            results: outcomes
                .into_iter()
                .enumerate()
                .map(|(i, o)| BatchVerificationResult { index: i as u32, verification: o.into() })
                .collect(),
        };
        Ok(PrecomputedJson::new(super::verify::render(&response)?))
    }

    /// Set the watch-list
    ///
    /// The enterprises whose changes this platform follows, in the feed and
    /// by webhook.
    #[oai(path = "/api/v1/platform/watchlist", method = "put", operation_id = "set_watchlist")]
    async fn watchlist(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<WatchlistInput>,
    ) -> Result<Json<WatchlistView>> {
        let platform = auth.platform()?;
        let w = body.0;
        let replace = w.usccs.as_deref().map(|u| platforms::parse_codes("usccs", u)).transpose()?;
        let add = platforms::parse_codes("add", w.add.as_deref().unwrap_or_default())?;
        let remove = platforms::parse_codes("remove", w.remove.as_deref().unwrap_or_default())?;
        if replace.is_some() && !(add.is_empty() && remove.is_empty()) {
            return Err(Error::validation(vec![FieldError::new("usccs", "conflicts").with("with", "add, remove")]));
        }
        let watched = platforms::change_watchlist(&state, platform, replace, add, remove).await?;
        Ok(Json(WatchlistView { watched }))
    }

    /// Change events of watched enterprises
    ///
    /// Licence re-issues, status changes, abnormal flags, permit changes,
    /// declared shops, in commit order. Resume from any cursor
    /// (omit `after` to start from the beginning): no event is skipped or
    /// repeated.
    #[oai(path = "/api/v1/platform/events", method = "get", operation_id = "platform_events")]
    async fn events(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        after: Query<Option<String>>,
        /// 1 to 1,000 (default 100).
        limit: Query<Option<u64>>,
    ) -> Result<Json<PlatformEventPage>> {
        let platform = auth.platform()?;
        let bad = |f: &str| Error::validation(vec![FieldError::new(f, "invalid_value")]);
        let start = match after.0.as_deref().filter(|a| !a.is_empty()) {
            None => (0, 0),
            Some(c) => platforms::parse_cursor(c).ok_or_else(|| bad("after"))?,
        };
        let limit = limit.0.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(bad("limit"));
        }
        let events = platforms::events(&state, platform, start, limit).await?;
        let next_cursor =
            events.last().map(|e| e.cursor.clone()).unwrap_or_else(|| platforms::cursor_text(start.0, start.1));
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let enterprise = match Uscc::parse(&e.uscc) {
                Ok(code) => state.standings.get(&state.db, &code).await?.as_deref().map(VerifiedEnterprise::new),
                Err(_) => None,
            };
            out.push(PlatformEvent {
                cursor: e.cursor,
                uscc: e.uscc,
                kind: e.kind,
                detail: Any(e.detail),
                occurred_at: e.occurred_at,
                enterprise,
            });
        }
        Ok(Json(PlatformEventPage { events: out, next_cursor }))
    }

    /// Set the webhook
    ///
    /// Events of watched enterprises are POSTed here, signed
    /// `X-Greenchannel-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
    #[oai(path = "/api/v1/platform/webhook", method = "put", operation_id = "set_platform_webhook")]
    async fn webhook(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<WebhookInput>,
    ) -> Result<Json<PlatformView>> {
        let platform = auth.platform()?;
        let url = body.0.url.trim().to_string();
        let watched = platforms::set_webhook(&state, platform, &url, &body.0.secret).await?;
        Ok(Json(PlatformView { id: platform.to_string(), webhook_url: Some(url), watched }))
    }
}
