//! The applicant's operations: name checks, the application form, signing,
//! the dual-notification notice, submission and withdrawal.
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    registry::{MetaSchema, MetaSchemaRef},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ApiTags,
    body::{JsonBody, PrecomputedJson},
    form::{EntityTypeWire, FormInput, entity_type},
    security::BearerAuth,
    views::{self, bad_cursor},
};
use crate::{
    domain::{FieldError, admin_code::AdminCode, application::Status, principal::Principal, resident_id, scope},
    error::{Code, Error, Result},
    i18n::{Lang, field_message},
    services::{self, idempotency::Idem, names, registration::ApplicationRecord},
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum StatusWire {
    Draft,
    Submitted,
    Returned,
    Approved,
    Rejected,
    Withdrawn,
}

impl From<Status> for StatusWire {
    fn from(s: Status) -> Self {
        match s {
            Status::Draft => StatusWire::Draft,
            Status::Submitted => StatusWire::Submitted,
            Status::Returned => StatusWire::Returned,
            Status::Approved => StatusWire::Approved,
            Status::Rejected => StatusWire::Rejected,
            Status::Withdrawn => StatusWire::Withdrawn,
        }
    }
}

impl From<StatusWire> for Status {
    fn from(s: StatusWire) -> Self {
        match s {
            StatusWire::Draft => Status::Draft,
            StatusWire::Submitted => Status::Submitted,
            StatusWire::Returned => Status::Returned,
            StatusWire::Approved => Status::Approved,
            StatusWire::Rejected => Status::Rejected,
            StatusWire::Withdrawn => Status::Withdrawn,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Auto,
    Reviewer,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct SignatureView {
    pub name: String,
    pub id_number_masked: String,
    pub signed_at: DateTime<Utc>,
    /// The form digest signed (SHA-256, hex).
    pub digest: String,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct SignerView {
    pub name: String,
    pub id_number_masked: String,
}

/// Something still missing before submission.
#[derive(Debug, Object, Serialize, Deserialize)]
pub struct Outstanding {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct FieldCommentView {
    pub field: String,
    pub comment: String,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct AutoRuleView {
    pub rule: String,
    pub passed: bool,
}

/// How the automatic-approval rules judged the last submission.
#[derive(Debug, Object, Serialize, Deserialize)]
pub struct AutoReviewView {
    pub approved: bool,
    pub rules: Vec<AutoRuleView>,
    /// What a reviewer should look at: `similar_name`, `address_concentration`.
    #[serde(default)]
    pub warnings: Vec<WarningView>,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct WarningView {
    pub code: String,
    pub field: String,
    pub detail: String,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: Uuid,
    pub kind: super::form::ApplicationKind,
    pub entity_type: EntityTypeWire,
    pub status: StatusWire,
    /// Send as `If-Match` to edit.
    pub version: i32,
    pub admin_code: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub form: FormInput,
    /// SHA-256 of the current version: what signatures bind.
    pub form_digest: String,
    pub signatures: Vec<SignatureView>,
    pub unsigned: Vec<SignerView>,
    /// What stands between this application and submission.
    pub outstanding: Vec<Outstanding>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_acknowledged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Review deadline in working days.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<DecidedBy>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    pub field_comments: Vec<FieldCommentView>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_review: Option<AutoReviewView>,
    /// Once approved: the enterprise's unified social credit code.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    pub materials: Vec<super::materials::MaterialView>,
    /// The materials this application needs; each is met by any one kind listed.
    pub required_materials: Vec<RequiredMaterial>,
    /// For a change: the registered items it changes.
    pub changes: Vec<String>,
    /// For a simplified deregistration: its public notice.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistration_notice: Option<NoticeSummary>,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct RequiredMaterial {
    pub any_of: Vec<String>,
    pub present: bool,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct NoticeSummary {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `open`, `objected` or `closed`.
    pub status: String,
}

impl ApplicationView {
    pub fn new(rec: &ApplicationRecord, viewer: &Principal, now: DateTime<Utc>, lang: Lang) -> Self {
        let row = &rec.row;
        let full = match viewer {
            Principal::Applicant(a) => row.applicant_id_number == a.id_number.as_str(),
            Principal::Staff(_) => true,
        };
        let status = rec.status();
        let outstanding = if status.is_editable() { rec.outstanding() } else { vec![] };
        let comments: Vec<services::review::FieldComment> =
            row.field_comments.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
        ApplicationView {
            id: row.id,
            kind: FormInput::from_form(&rec.form, None, false).kind,
            entity_type: super::form::entity_type_wire(rec.form.entity_type),
            status: status.into(),
            version: row.version,
            admin_code: row.authority.clone(),
            name: row.name.clone(),
            form: FormInput::from_form(&rec.form, viewer.applicant().map(|a| &a.id_number), full),
            form_digest: row.form_digest.clone(),
            signatures: rec
                .signatures
                .iter()
                .filter(|s| s.digest == row.form_digest)
                .map(|s| SignatureView {
                    name: s.name.clone(),
                    id_number_masked: resident_id::mask(&s.id_number),
                    signed_at: s.signed_at,
                    digest: s.digest.clone(),
                })
                .collect(),
            unsigned: rec
                .unsigned()
                .into_iter()
                .map(|(_, p)| SignerView { name: p.name.clone(), id_number_masked: p.id_number.masked() })
                .collect(),
            outstanding: outstanding
                .iter()
                .map(|e| Outstanding { field: e.field.clone(), code: e.code.into(), message: field_message(e, lang) })
                .collect(),
            notice_acknowledged_at: if rec.notice_acknowledged() { row.notice_acknowledged_at } else { None },
            created_at: row.created_at,
            updated_at: row.updated_at,
            submitted_at: row.submitted_at,
            due_at: row.due_at,
            overdue: status == Status::Submitted && row.due_at.is_some_and(|d| d < now),
            decided_at: row.decided_at,
            decided_by: row
                .decided_by
                .as_deref()
                .map(|d| if d == "auto" { DecidedBy::Auto } else { DecidedBy::Reviewer }),
            decision_reason: row.decision_reason.clone(),
            field_comments: comments
                .into_iter()
                .map(|c| FieldCommentView { field: c.field, comment: c.comment })
                .collect(),
            auto_review: row.auto_review.as_deref().and_then(|a| serde_json::from_str::<AutoReviewView>(a).ok()),
            uscc: row.uscc.clone(),
            materials: rec.materials.iter().map(super::materials::MaterialView::from).collect(),
            required_materials: rec
                .material_requirements()
                .into_iter()
                .map(|(r, present)| RequiredMaterial {
                    any_of: r.any_of.iter().map(|k| k.as_str().to_string()).collect(),
                    present,
                })
                .collect(),
            changes: match &rec.registered {
                Some(old) if rec.form.kind == crate::domain::form::Kind::Change => {
                    crate::domain::change::diff(old, &rec.form).iter().map(|i| i.as_str().to_string()).collect()
                }
                _ => vec![],
            },
            deregistration_notice: rec.notice.as_ref().map(|n| NoticeSummary {
                id: n.id,
                starts_at: n.starts_at,
                ends_at: n.ends_at,
                status: n.status.clone(),
            }),
        }
    }
}

#[derive(Debug, Object)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationView>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
pub struct NameCheckRequest {
    pub name: String,
    pub entity_type: EntityTypeWire,
    /// County-level code of the registration authority.
    pub admin_code: String,
}

#[derive(Debug, Object)]
pub struct NameViolation {
    /// Stable rule code, e.g. `reserved_prefix`.
    pub code: String,
    /// The provision it comes from.
    pub rule: String,
    pub message: String,
    #[oai(skip_serializing_if_is_none)]
    pub words: Option<String>,
}

#[derive(Debug, Object)]
pub struct NameConflict {
    pub name: String,
    pub uscc: Option<String>,
    /// `identical`, `same_trade_name` (both block) or `similar` (a warning).
    pub kind: String,
    /// `registered`, `reserved` or `released` (within the one-year bar).
    pub state: String,
}

#[derive(Debug, Object)]
pub struct NameStructure {
    pub division: String,
    pub trade_name: String,
    #[oai(nullable)]
    pub industry: Option<String>,
    pub organisational_form: String,
}

#[derive(Debug, Object)]
pub struct NameCheckResult {
    pub available: bool,
    pub violations: Vec<NameViolation>,
    pub conflicts: Vec<NameConflict>,
    #[oai(skip_serializing_if_is_none)]
    pub structure: Option<NameStructure>,
}

fn violation_message(code: &str, lang: Lang) -> &'static str {
    let (zh, en) = match code {
        "invalid_length" => ("名称长度应为4至50个字", "a name has 4 to 50 characters"),
        "non_standard_characters" => ("名称应当使用规范汉字", "names use standard Chinese characters"),
        "traditional_characters" => {
            ("名称应当使用规范汉字，不使用繁体字", "names use standard (simplified) characters, not traditional ones")
        }
        "reserved_prefix" => (
            "冠以“中国”“中华”“中央”“全国”“国家”等字词须经国务院批准，不能自主申报",
            "words like 中国/国家 need State Council approval",
        ),
        "state_or_military_organ" => ("不得含有党政机关、军队名称", "may not name state, party or military organs"),
        "mass_organisation" => ("不得含有群团组织名称", "may not name mass organisations"),
        "foreign_or_international" => {
            ("不得含有外国国家或国际组织名称", "may not name foreign countries or international organisations")
        }
        "prohibited_content" => (
            "不得含有淫秽、赌博、迷信、恐怖、暴力等内容",
            "may not contain obscene, gambling, superstitious, terrorist or violent content",
        ),
        "superlative" => ("不得使用“国家级”“最高级”“最佳”等用语", "may not use superlatives"),
        "implies_state_backing" => {
            ("不得含有明示或暗示有国有资本或政府信用的内容", "may not imply state funding or government credit")
        }
        "implies_non_profit" => ("不得含有明示或暗示为非营利组织的内容", "may not imply a non-profit body"),
        "imitates_well_known_name" => {
            ("不得与同行业在先有一定影响的名称相同或近似", "may not imitate a well-known earlier name")
        }
        "missing_organisational_form" => {
            ("缺少与主体类型相符的组织形式", "lacks an organisational form fitting the entity type")
        }
        "organisational_form_mismatch" => {
            ("组织形式与主体类型不符", "the organisational form does not fit the entity type")
        }
        "missing_division" => ("缺少登记机关所在的行政区划名称", "lacks the registration authority's division name"),
        "division_not_of_authority" => {
            ("行政区划不是本登记机关所在地", "the division is not the registration authority's")
        }
        "district_without_city" => ("市辖区名称应与市的名称同时使用", "a city district is preceded by its city"),
        "missing_industry" => ("缺少行业或经营特点用语", "lacks an industry term"),
        "trade_name_too_short" => ("字号应由两个以上汉字组成", "a trade name has at least two characters"),
        "trade_name_is_division" => ("字号不得为行政区划名称", "a trade name may not be a division name"),
        "trade_name_is_industry" => ("字号不得为行业用语", "a trade name may not be an industry term"),
        _ => ("不符合名称规定", "breaks a naming rule"),
    };
    lang.pick(zh, en)
}

impl NameCheckResult {
    fn new(o: &names::Outcome, lang: Lang) -> Self {
        NameCheckResult {
            available: o.available(),
            violations: o
                .violations
                .iter()
                .map(|v| NameViolation {
                    code: v.code.into(),
                    rule: v.rule.into(),
                    message: violation_message(v.code, lang).into(),
                    words: v.detail.clone(),
                })
                .collect(),
            conflicts: o
                .conflicts
                .iter()
                .map(|c| NameConflict {
                    name: c.name.clone(),
                    uscc: c.uscc.clone(),
                    kind: c.kind.as_str().into(),
                    state: c.state.clone(),
                })
                .collect(),
            structure: o.parts.as_ref().map(|p| NameStructure {
                division: p.division.clone(),
                trade_name: p.trade_name.clone(),
                industry: p.industry.clone(),
                organisational_form: p.org_form.clone(),
            }),
        }
    }
}

/// One licensed item of the chosen scope and who grants it.
#[derive(Debug, Object)]
pub struct NoticeItem {
    pub scope_code: String,
    pub scope_name: String,
    pub permit: String,
    /// The department that grants it here, from the directory; absent when
    /// none is configured (then `department_label` says which kind).
    #[oai(skip_serializing_if_is_none)]
    pub department_code: Option<String>,
    pub department_name: String,
    pub jurisdiction: String,
    /// Department kind from the catalogue, e.g. `market_regulation`.
    pub department_kind: String,
    /// Level of the granting department: county, city, province, national.
    pub department_level: String,
    /// `post` (register first), `pre` (approval first) or `filing`.
    pub timing: String,
    #[oai(nullable)]
    pub basis: Option<String>,
}

/// The dual-notification letter (双告知).
#[derive(Debug, Object)]
pub struct DualNotice {
    pub application_id: Uuid,
    pub version: i32,
    pub items: Vec<NoticeItem>,
    /// The commitment the applicant makes by acknowledging.
    pub commitment: String,
    pub acknowledgement_required: bool,
    #[oai(nullable)]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// A PDF generated for one request.
pub struct PdfFile(pub Vec<u8>);

impl poem_openapi::payload::Payload for PdfFile {
    const CONTENT_TYPE: &'static str = "application/pdf";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
    }
}

impl poem::IntoResponse for PdfFile {
    fn into_response(self) -> poem::Response {
        poem::Response::builder().content_type("application/pdf").body(self.0)
    }
}

/// It names the applicant and is dated today: not for shared caches.
const NO_STORE: &str = "private, no-store";

#[derive(ApiResponse)]
enum NoticePdf {
    /// The letter.
    #[oai(status = 200)]
    Ok(PdfFile, #[oai(header = "Content-Disposition")] String, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse)]
enum CreatedApplication {
    /// The draft.
    #[oai(status = 201)]
    Created(Json<ApplicationView>, #[oai(header = "ETag")] String, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum OneApplication {
    #[oai(status = 200)]
    Ok(Json<ApplicationView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
enum Signed {
    /// The application with the new signature.
    #[oai(status = 201)]
    Created(Json<ApplicationView>, #[oai(header = "ETag")] String),
}

/// Parses `If-Match: 3` or `If-Match: "3"`.
fn parse_if_match(h: Option<&str>) -> Result<i32> {
    let Some(v) = h else { return Err(Error::new(Code::PreconditionRequired)) };
    v.trim().trim_start_matches("W/").trim_matches('"').parse::<i32>().map_err(|_| {
        Error::field(
            Code::BadRequest,
            FieldError::new("If-Match", "invalid_format").with("expected", "the application version, e.g. 3"),
        )
    })
}

fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

fn parse_form(input: &FormInput) -> Result<crate::domain::form::Form> {
    input.parse().map_err(Error::validation)
}

pub struct ApplicationsApi;

#[OpenApi(tag = "ApiTags::Applicant")]
impl ApplicationsApi {
    /// Check a proposed enterprise name
    ///
    /// Structure, forbidden content and conflicts with names registered or
    /// reserved at the same registration authority.
    #[oai(path = "/api/v1/name-checks", method = "post", operation_id = "check_name")]
    async fn check_name(
        &self,
        state: Data<&AppState>,
        _auth: BearerAuth,
        lang: Lang,
        body: JsonBody<NameCheckRequest>,
    ) -> Result<Json<NameCheckResult>> {
        let req = body.0;
        let authority =
            AdminCode::parse(&req.admin_code).map_err(|e| Error::validation(vec![e.under("admin_code")]))?;
        let name = super::form::text_field(&req.name, "name", 60).map_err(|e| Error::validation(vec![e]))?;
        let outcome = names::check(
            state.db.conn(),
            &name,
            entity_type(req.entity_type),
            &authority,
            Default::default(),
            state.now(),
        )
        .await?;
        Ok(Json(NameCheckResult::new(&outcome, lang)))
    }

    /// Create a draft application
    #[oai(path = "/api/v1/applications", method = "post", operation_id = "create_application")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        body: JsonBody<FormInput>,
    ) -> Result<CreatedApplication> {
        let a = auth.applicant()?;
        let form = parse_form(&body.0)?;
        let rec = services::registration::create(&state, a, form).await?;
        let view = ApplicationView::new(&rec, &auth.0, state.now(), lang);
        Ok(CreatedApplication::Created(
            Json(view),
            etag(rec.row.version),
            format!("/api/v1/applications/{}", rec.row.id),
        ))
    }

    /// List my applications
    ///
    /// Those I created and those that name me as a party, newest first.
    #[oai(path = "/api/v1/applications", method = "get", operation_id = "list_applications")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ApplicationPage>> {
        let a = auth.applicant()?;
        let limit = views::limit(limit.0)?;
        let before = views::decode_cursor(cursor.0.as_deref())?
            .map(|c| c.parse::<Uuid>().map_err(|_| bad_cursor()))
            .transpose()?;
        let (recs, next) = services::registration::list_mine(&state, a, before, limit).await?;
        let now = state.now();
        Ok(Json(ApplicationPage {
            items: recs.iter().map(|r| ApplicationView::new(r, &auth.0, now, lang)).collect(),
            next_cursor: next.map(|id| views::encode_cursor(&id.to_string())),
        }))
    }

    /// Get one application
    #[oai(path = "/api/v1/applications/:id", method = "get", operation_id = "get_application")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
    ) -> Result<OneApplication> {
        let rec = services::registration::get(&state, &auth.0, id.0).await?;
        Ok(OneApplication::Ok(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)), etag(rec.row.version)))
    }

    /// Replace the form
    ///
    /// `If-Match` must carry the current version (412 otherwise). Every edit
    /// makes a new version and clears the signatures.
    #[oai(path = "/api/v1/applications/:id", method = "put", operation_id = "update_application")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: JsonBody<FormInput>,
    ) -> Result<OneApplication> {
        let a = auth.applicant()?;
        let version = parse_if_match(if_match.0.as_deref())?;
        let form = parse_form(&body.0)?;
        let rec = services::registration::update(&state, a, id.0, version, form).await?;
        Ok(OneApplication::Ok(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)), etag(rec.row.version)))
    }

    /// Sign the current version
    ///
    /// The signed-in person signs as the party whose ID number they carry;
    /// the signature binds the current form digest.
    #[oai(path = "/api/v1/applications/:id/signatures", method = "post", operation_id = "sign_application")]
    async fn sign(&self, state: Data<&AppState>, auth: BearerAuth, lang: Lang, id: Path<Uuid>) -> Result<Signed> {
        let a = auth.applicant()?;
        let rec = services::registration::sign(&state, a, id.0).await?;
        Ok(Signed::Created(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)), etag(rec.row.version)))
    }

    /// The dual-notification letter
    ///
    /// Which permits the chosen scope needs, from which kind of department,
    /// on which legal basis.
    #[oai(path = "/api/v1/applications/:id/notice", method = "get", operation_id = "get_notice")]
    async fn notice(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<DualNotice>> {
        let rec = services::registration::get(&state, &auth.0, id.0).await?;
        Ok(Json(notice_view(&state, &rec).await?))
    }

    /// The dual-notification letter as a PDF
    ///
    /// The same notice as `get_notice`, as an A4 letter from the
    /// registration authority (经营范围涉及许可事项告知书), dated today,
    /// with the commitment and whether it has been acknowledged.
    #[oai(path = "/api/v1/applications/:id/notice.pdf", method = "get", operation_id = "get_notice_pdf")]
    async fn notice_pdf(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<NoticePdf> {
        let rec = services::registration::get(&state, &auth.0, id.0).await?;
        let pdf = services::notifications::notice_pdf(&state, &rec).await?;
        Ok(NoticePdf::Ok(PdfFile(pdf), format!("inline; filename=\"notice-{}.pdf\"", rec.row.id), NO_STORE.into()))
    }

    /// Acknowledge the notice
    ///
    /// The applicant commits not to carry on licensed activities before the
    /// permits are granted. Bound to the current version.
    #[oai(
        path = "/api/v1/applications/:id/notice/acknowledgement",
        method = "post",
        operation_id = "acknowledge_notice"
    )]
    async fn acknowledge(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
    ) -> Result<OneApplication> {
        let a = auth.applicant()?;
        let rec = services::registration::acknowledge_notice(&state, a, id.0).await?;
        Ok(OneApplication::Ok(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)), etag(rec.row.version)))
    }

    /// Submit for review
    ///
    /// Refused with 409 naming every missing step (form fields, signatures,
    /// acknowledgement). Send an `Idempotency-Key`: a repeat with the same
    /// key gets the first answer back instead of a second submission.
    #[oai(path = "/api/v1/applications/:id/submit", method = "post", operation_id = "submit_application")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
    ) -> Result<PrecomputedJson<ApplicationView>> {
        let a = auth.applicant()?;
        let path = format!("/api/v1/applications/{}/submit", id.0);
        let idem = idempotency_key.0.as_deref().map(|k| Idem::new(auth.0.key(), k, "POST", &path, b"")).transpose()?;
        let render = |rec: &ApplicationRecord| {
            serde_json::to_string(&ApplicationView::new(rec, &auth.0, rec.row.updated_at, lang)).unwrap_or_default()
        };
        Ok(PrecomputedJson::new(services::registration::submit(&state, a, id.0, idem.as_ref(), render).await?))
    }

    /// Withdraw an undecided application
    #[oai(path = "/api/v1/applications/:id/withdraw", method = "post", operation_id = "withdraw_application")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
    ) -> Result<OneApplication> {
        let a = auth.applicant()?;
        let rec = services::registration::withdraw(&state, a, id.0).await?;
        Ok(OneApplication::Ok(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)), etag(rec.row.version)))
    }
}

pub async fn notice_view(state: &AppState, rec: &ApplicationRecord) -> Result<DualNotice> {
    let items = services::notifications::notice_entries(state, &rec.form)
        .await?
        .into_iter()
        .map(|e| NoticeItem {
            scope_code: e.item.code.into(),
            scope_name: e.item.name.into(),
            permit: e.item.permit.unwrap_or_default().into(),
            department_name: e.department_name(),
            department_code: e.department.map(|d| d.code),
            jurisdiction: e.jurisdiction,
            department_kind: e.kind.into(),
            department_level: e.level.into(),
            timing: match e.item.timing {
                Some(scope::Timing::Pre) => "pre",
                Some(scope::Timing::Post) => "post",
                Some(scope::Timing::Filing) => "filing",
                None => "post",
            }
            .into(),
            basis: e.item.basis.map(str::to_string),
        })
        .collect();
    Ok(DualNotice {
        application_id: rec.row.id,
        version: rec.row.version,
        acknowledgement_required: rec.acknowledgement_required(),
        acknowledged_at: if rec.notice_acknowledged() { rec.row.notice_acknowledged_at } else { None },
        commitment: services::notifications::COMMITMENT.into(),
        items,
    })
}
