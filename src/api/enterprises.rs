//! Registered enterprises and their licences.
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use super::{ApiTags, form::FormInput, security::BearerAuth};
use crate::{
    domain::{
        licence::{self, LicenceContent},
        principal::Principal,
        uscc::Uscc,
    },
    error::{Error, Result},
    services::{self, enterprises::EnterpriseRecord},
    state::AppState,
};

#[derive(Debug, Object)]
pub struct LicenceField {
    pub label: String,
    pub value: String,
}

/// What a licence version prints.
#[derive(Debug, Object)]
pub struct LicenceView {
    pub version: i32,
    pub uscc: String,
    #[oai(nullable)]
    pub name: Option<String>,
    pub fields: Vec<LicenceField>,
    pub scope_lines: Vec<String>,
    pub premises: Vec<String>,
    pub authority_name: String,
    pub established_on: NaiveDate,
    pub issued_at: DateTime<Utc>,
}

impl From<LicenceContent> for LicenceView {
    fn from(c: LicenceContent) -> Self {
        LicenceView {
            version: c.version,
            uscc: c.uscc,
            name: c.name,
            fields: c.fields.into_iter().map(|f| LicenceField { label: f.label, value: f.value }).collect(),
            scope_lines: c.scope_lines,
            premises: c.premises,
            authority_name: c.authority_name,
            established_on: c.established_on,
            issued_at: c.issued_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct LicenceVersionSummary {
    pub version: i32,
    pub issued_at: DateTime<Utc>,
    #[oai(nullable)]
    pub superseded_at: Option<DateTime<Utc>>,
}

/// A live business premises: registered, an online shop, or filed later.
#[derive(Debug, Object)]
pub struct PremisesView {
    pub id: uuid::Uuid,
    /// `online` or `address`.
    pub kind: String,
    /// Registered with the enterprise (true) or filed later under its licence.
    pub registered: bool,
    #[oai(skip_serializing_if_is_none)]
    pub platform: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub address_id: Option<uuid::Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    pub activities: Vec<String>,
}

/// Where a licensed item stands, from the departments' feedback.
#[derive(Debug, Object)]
pub struct PermitView {
    pub scope_code: String,
    pub permit: String,
    /// `pending`, `granted`, `refused` or `not_required`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub permit_no: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, Object)]
pub struct EnterpriseView {
    pub uscc: String,
    pub name: Option<String>,
    pub entity_type: super::form::EntityTypeWire,
    /// `active`, `deregistered` or `revoked`.
    pub status: String,
    pub abnormal: bool,
    #[oai(skip_serializing_if_is_none)]
    pub abnormal_reason: Option<String>,
    pub authority: String,
    pub authority_name: String,
    pub established_on: NaiveDate,
    pub licence_version: i32,
    /// Legal representative, operator or investor (name only).
    pub representative_name: String,
    /// The registered facts in the form's shape.
    pub registered: FormInput,
    #[oai(skip_serializing_if_is_none)]
    pub licence: Option<LicenceView>,
    /// The verification URL in the current licence's QR code (for linking
    /// from a shop page; the badge and PDF carry it too).
    #[oai(skip_serializing_if_is_none)]
    pub verify_url: Option<String>,
    pub licences: Vec<LicenceVersionSummary>,
    pub premises: Vec<PremisesView>,
    pub permits: Vec<PermitView>,
}

impl EnterpriseView {
    pub fn new(rec: EnterpriseRecord, viewer: &Principal, verify_url: Option<String>) -> Self {
        let full = matches!(viewer, Principal::Staff(_)) || rec.is_owned_by(viewer);
        let authority = rec.profile.admin_code.clone();
        let premises = rec
            .premises
            .iter()
            .map(|(p, a)| PremisesView {
                id: p.id,
                kind: p.kind.clone(),
                registered: p.registered,
                platform: p.platform.clone(),
                url: p.url.clone(),
                address_id: p.address_id,
                address: a.as_ref().map(|a| {
                    crate::domain::admin_code::TownshipCode::parse(&a.township_code)
                        .map(|t| t.full_name())
                        .unwrap_or_default()
                        + &a.detail
                }),
                activities: serde_json::from_str(&p.activities).unwrap_or_default(),
            })
            .collect();
        let permits = crate::services::notifications::permit_statuses(&rec.notifications)
            .into_iter()
            .map(|p| PermitView {
                scope_code: p.scope_code,
                permit: p.permit,
                status: p.status.as_str().into(),
                permit_no: p.permit_no,
                valid_until: p.valid_until,
            })
            .collect();
        EnterpriseView {
            permits,
            premises,
            registered: FormInput::from_form(&rec.profile, viewer.applicant().map(|a| &a.id_number), full),
            licence: rec.current_licence().map(Into::into),
            verify_url,
            licences: rec
                .licences
                .iter()
                .map(|l| LicenceVersionSummary {
                    version: l.version,
                    issued_at: l.issued_at,
                    superseded_at: l.superseded_at,
                })
                .collect(),
            entity_type: super::form::entity_type_wire(rec.profile.entity_type),
            uscc: rec.row.uscc,
            name: rec.row.name,
            status: rec.row.status,
            abnormal: rec.row.abnormal,
            abnormal_reason: rec.row.abnormal_reason,
            authority: rec.row.authority,
            authority_name: licence::authority_name(&authority),
            established_on: rec.row.established_on,
            licence_version: rec.row.licence_version,
            representative_name: rec.row.representative_name,
        }
    }
}

/// Parses a USCC path segment; a malformed code names the field.
pub fn parse_uscc(raw: &str) -> Result<Uscc> {
    Uscc::parse(raw).map_err(|e| Error::validation(vec![e.under("uscc")]))
}

pub struct EnterprisesApi;

#[OpenApi(tag = "ApiTags::Enterprises")]
impl EnterprisesApi {
    /// A registered enterprise
    ///
    /// Visible to its owner, to reviewers of its registration authority and
    /// to admins; anyone else gets 404.
    #[oai(path = "/api/v1/enterprises/:uscc", method = "get", operation_id = "get_enterprise")]
    async fn get(&self, state: Data<&AppState>, auth: BearerAuth, uscc: Path<String>) -> Result<Json<EnterpriseView>> {
        let code = parse_uscc(&uscc.0)?;
        let rec = services::enterprises::get(&state, &auth.0, &code).await?;
        let verify_url = services::licence_documents::current_verify_url(&state, &rec)?;
        Ok(Json(EnterpriseView::new(rec, &auth.0, verify_url)))
    }
}
