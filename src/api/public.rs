//! Public pages of the register: disclosure search and simplified-
//! deregistration notices with their objections. No key needed.
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::{Data, RemoteAddr};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    ApiTags,
    body::JsonBody,
    form::{EntityTypeWire, entity_type_wire, text_field},
    views::{self, bad_cursor},
};
use crate::{
    domain::{FieldError, entity_type::EntityType, licence, text},
    error::{Error, Result},
    services::{self, notices::NewObjection},
    state::AppState,
};

/// What anyone may know about a registered enterprise.
#[derive(Debug, Object)]
pub struct PublicEnterprise {
    pub uscc: String,
    #[oai(nullable)]
    pub name: Option<String>,
    pub entity_type: EntityTypeWire,
    /// `active`, `deregistered` or `revoked`.
    pub status: String,
    /// Listed for abnormal operation.
    pub abnormal: bool,
    pub established_on: NaiveDate,
    /// Legal representative, operator or investor: the name only.
    pub representative_name: String,
    #[oai(nullable)]
    pub address: Option<String>,
    pub scope: Vec<String>,
    pub authority_name: String,
}

#[derive(Debug, Object)]
pub struct PublicEnterprisePage {
    pub items: Vec<PublicEnterprise>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct DeregistrationNoticeView {
    pub id: Uuid,
    pub uscc: String,
    #[oai(nullable)]
    pub name: Option<String>,
    pub entity_type: String,
    pub authority_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
}

#[derive(Debug, Object)]
pub struct DeregistrationNoticePage {
    pub items: Vec<DeregistrationNoticeView>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
pub struct ObjectionInput {
    /// Who objects (a person or an organisation).
    pub name: String,
    #[serde(default)]
    pub contact: Option<String>,
    /// The interest affected, e.g. an unpaid debt or pending dispute.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct ObjectionReceipt {
    pub id: Uuid,
    pub notice_id: Uuid,
    pub received_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum Lodged {
    #[oai(status = 201)]
    Created(Json<ObjectionReceipt>),
}

fn authority_filter(code: Option<&str>) -> Result<Option<String>> {
    code.map(|c| {
        crate::domain::admin_code::AdminCode::parse(c)
            .map(|a| a.to_string())
            .map_err(|e| Error::validation(vec![e.under("admin_code")]))
    })
    .transpose()
}

pub struct PublicApi;

#[OpenApi(tag = "ApiTags::Public")]
impl PublicApi {
    /// Search the register
    ///
    /// By unified social credit code, full name or trade name (字号).
    /// Public facts only: never ID numbers or phones.
    #[oai(path = "/api/v1/public/enterprises", method = "get", operation_id = "search_enterprises")]
    async fn search(
        &self,
        state: Data<&AppState>,
        q: Query<String>,
        admin_code: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> Result<Json<PublicEnterprisePage>> {
        let query = text::to_half_width(q.0.trim());
        if query.chars().count() < 2 || query.chars().count() > 60 {
            return Err(Error::validation(vec![FieldError::new("q", "invalid_length").with("expected", "2-60")]));
        }
        let authority = authority_filter(admin_code.0.as_deref())?;
        let found = services::disclosure::search(&state, &query, authority.as_deref(), views::limit(limit.0)?).await?;
        let items = found
            .iter()
            .map(|f| PublicEnterprise {
                uscc: f.row.uscc.clone(),
                name: f.row.name.clone(),
                entity_type: entity_type_wire(f.profile.entity_type),
                status: f.row.status.clone(),
                abnormal: f.row.abnormal,
                established_on: f.row.established_on,
                representative_name: f.row.representative_name.clone(),
                address: f.address(),
                scope: crate::domain::scope::licence_lines(&f.profile.scope, f.profile.online_only()),
                authority_name: licence::authority_name(&f.profile.admin_code),
            })
            .collect();
        Ok(Json(PublicEnterprisePage { items, next_cursor: None }))
    }

    /// Simplified-deregistration notices now running
    #[oai(path = "/api/v1/public/deregistration-notices", method = "get", operation_id = "list_deregistration_notices")]
    async fn notices(
        &self,
        state: Data<&AppState>,
        admin_code: Query<Option<String>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<DeregistrationNoticePage>> {
        let authority = authority_filter(admin_code.0.as_deref())?;
        let before = views::decode_cursor(cursor.0.as_deref())?
            .map(|c| c.parse::<Uuid>().map_err(|_| bad_cursor()))
            .transpose()?;
        let (rows, next) =
            services::notices::list_open(&state, authority.as_deref(), before, views::limit(limit.0)?).await?;
        let items = rows
            .into_iter()
            .map(|n| DeregistrationNoticeView {
                authority_name: crate::domain::admin_code::AdminCode::parse(&n.authority)
                    .map(|a| licence::authority_name(&a))
                    .unwrap_or_default(),
                entity_type: EntityType::parse(&n.entity_type).map(|t| t.label_zh()).unwrap_or_default().to_string(),
                id: n.id,
                uscc: n.uscc,
                name: n.name,
                starts_at: n.starts_at,
                ends_at: n.ends_at,
                status: n.status,
            })
            .collect();
        Ok(Json(DeregistrationNoticePage { items, next_cursor: next.map(|id| views::encode_cursor(&id.to_string())) }))
    }

    /// Object to a simplified deregistration
    ///
    /// While the notice runs, anyone whose interests are affected may object;
    /// the simplified procedure then stops.
    #[oai(
        path = "/api/v1/public/deregistration-notices/:id/objections",
        method = "post",
        operation_id = "object_to_deregistration"
    )]
    async fn object(
        &self,
        state: Data<&AppState>,
        remote: &RemoteAddr,
        id: Path<Uuid>,
        body: JsonBody<ObjectionInput>,
    ) -> Result<Lodged> {
        let o = body.0;
        let mut errors = Vec::new();
        let name = text_field(&o.name, "name", 100).map_err(|e| errors.push(e)).ok();
        let reason = text_field(&o.reason, "reason", 2000).map_err(|e| errors.push(e)).ok();
        let contact = o
            .contact
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .and_then(|c| text_field(c, "contact", 100).map_err(|e| errors.push(e)).ok());
        let (Some(name), Some(reason)) = (name, reason) else { return Err(Error::validation(errors)) };
        let client = remote.as_socket_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
        let lodged = services::notices::object(&state, &client, id.0, NewObjection { name, contact, reason }).await?;
        Ok(Lodged::Created(Json(ObjectionReceipt { id: lodged.id, notice_id: id.0, received_at: lodged.at })))
    }
}
