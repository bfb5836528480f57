//! Dual notification (双告知): push each registration whose scope needs a
//! permit to the department that grants it, written in the approving
//! transaction (with an outbox message for departments with a webhook),
//! then claimed and answered by the department within its deadlines.
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    registration::ApplicationRecord,
};
use crate::{
    documents::notice_pdf::{self, NoticeLetter, NoticeLetterItem},
    domain::{
        FieldError,
        admin_code::AdminCode,
        form::Form,
        licence,
        notification::{self, PermitStatus},
        principal::{Actor, Principal, StaffRole},
        scope::{self, ScopeItem},
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{
        self, WriteTx,
        notifications::{DepartmentRow, Row},
        outbox::NewMessage,
    },
};

/// Why a registration is pushed.
#[derive(Debug, Clone, Copy)]
pub enum Reason {
    Establish,
    Change,
    Premises,
    Deregister,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Establish => "establish",
            Reason::Change => "change",
            Reason::Premises => "premises",
            Reason::Deregister => "deregister",
        }
    }
}

/// The enterprise as the pushed record describes it.
pub struct Subject_<'a> {
    pub enterprise_id: Uuid,
    pub uscc: &'a str,
    pub form: &'a Form,
    pub application_id: Option<Uuid>,
    /// Where the activity happens, when not the registered place (premises filings).
    pub place: Option<String>,
}

/// Writes one notification per item, routed to its department, and queues a
/// webhook message for departments that have one. Runs inside the caller's
/// transaction. Returns how many were pushed.
pub async fn push(
    state: &AppState,
    tx: &WriteTx,
    s: Subject_<'_>,
    items: &[&ScopeItem],
    reason: Reason,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize> {
    let items: Vec<&ScopeItem> = items.iter().copied().filter(|i| i.needs_department()).collect();
    if items.is_empty() {
        return Ok(0);
    }
    let form = s.form;
    let address = s.place.clone().or_else(|| {
        form.domicile.as_ref().map(|d| d.full_text()).or_else(|| form.premises.first().map(licence::premises_text))
    });
    let scope_view: Vec<_> = form
        .scope
        .iter()
        .map(|i| json!({ "code": i.code, "name": i.name, "licensed": i.needs_department() }))
        .collect();
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    for item in items {
        let kind = item.department_kind.unwrap_or_default();
        let level = item.department_level.unwrap_or("county");
        let jurisdiction = notification::jurisdiction(level, &form.admin_code);
        let dept = store::notifications::route(tx, kind, &jurisdiction).await?;
        let claim_days = dept.as_ref().map(|d| d.claim_days as u32).unwrap_or(state.settings.notification_claim_days);
        let id = Uuid::now_v7();
        let payload = json!({
            "notification_id": id,
            "reason": reason.as_str(),
            "enterprise": {
                "uscc": s.uscc,
                "name": form.name,
                "entity_type": form.entity_type.as_str(),
                "representative": form.representative().map(|p| p.name.clone()),
                "address": address,
                "scope": scope_view,
                "registration_authority": licence::authority_name(&form.admin_code),
            },
            "item": { "code": item.code, "name": item.name, "permit": item.permit, "basis": item.basis, "timing": format!("{:?}", item.timing).to_lowercase() },
            "department": { "code": dept.as_ref().map(|d| d.code.clone()), "kind": kind, "jurisdiction": jurisdiction },
            "pushed_at": now,
        });
        let body = payload.to_string();
        if let Some(d) = dept.as_ref().filter(|d| d.webhook_url.is_some()) {
            messages.push(NewMessage {
                topic: "notification.pushed".into(),
                target_kind: "department",
                target_id: d.code.clone(),
                payload: body.clone(),
            });
        }
        audit::record(
            tx,
            now,
            actor,
            "notification.pushed",
            Subject { kind: "notification", id: &id.to_string() },
            None,
            None,
            json!({ "uscc": s.uscc, "scope": item.code, "department": dept.as_ref().map(|d| d.code.clone()), "jurisdiction": jurisdiction, "reason": reason.as_str(), "webhook": dept.as_ref().is_some_and(|d| d.webhook_url.is_some()) }),
        )
        .await?;
        rows.push(entities::notification::Model {
            id,
            enterprise_id: s.enterprise_id,
            uscc: s.uscc.to_string(),
            application_id: s.application_id,
            reason: reason.as_str().into(),
            scope_code: item.code.into(),
            permit: item.permit.unwrap_or_default().into(),
            department_kind: kind.into(),
            jurisdiction,
            department_code: dept.map(|d| d.code),
            payload: body,
            status: "pending".into(),
            pushed_at: now,
            claim_due_at: state.calendar.add_working_days(now, claim_days),
            claimed_at: None,
            claimed_by: None,
            feedback_due_at: None,
            outcome: None,
            permit_no: None,
            valid_until: None,
            feedback_reason: None,
            closed_at: None,
        });
    }
    let n = rows.len();
    store::notifications::insert(tx, rows).await?;
    store::outbox::enqueue(tx, messages, now).await?;
    Ok(n)
}

/// The commitment an applicant makes by acknowledging the notice.
pub const COMMITMENT: &str = "本人已知晓上述经营项目须取得相关许可证件，承诺在取得许可前不开展相关经营活动。";

/// One item of the notice (双告知): a scope item that needs a permit or a
/// filing, and the department that grants it where the form registers.
pub struct NoticeEntry {
    pub item: &'static ScopeItem,
    /// Department kind from the catalogue, `market_regulation`.
    pub kind: &'static str,
    /// Level of the granting department: county, city, province, national.
    pub level: &'static str,
    /// Admin code of the area the department serves.
    pub jurisdiction: String,
    /// From the directory; `None` when none is configured.
    pub department: Option<DepartmentRow>,
}

impl NoticeEntry {
    /// The department's name, or the kind of department when the directory
    /// has none for the area.
    pub fn department_name(&self) -> String {
        self.department.as_ref().map(|d| d.name.clone()).unwrap_or_else(|| notification::kind_label(self.kind).0.into())
    }
}

/// The notice's items for a form, each routed as the push after approval
/// will route it.
pub async fn notice_entries(state: &AppState, form: &Form) -> Result<Vec<NoticeEntry>> {
    let mut out = Vec::new();
    for &item in form.scope.iter().filter(|s| s.needs_department()) {
        let kind = item.department_kind.unwrap_or_default();
        let jurisdiction = notification::jurisdiction(item.department_level.unwrap_or("county"), &form.admin_code);
        let department = store::notifications::route(state.db.conn(), kind, &jurisdiction).await?;
        out.push(NoticeEntry {
            item,
            kind,
            level: item.department_level.unwrap_or_default(),
            jurisdiction,
            department,
        });
    }
    Ok(out)
}

/// The area a department at `level` serves, by name: "陕西省汉中市略阳县".
fn jurisdiction_name(level: &str, authority: &AdminCode) -> String {
    match level {
        "national" => "全国".into(),
        "province" => authority.province_name().into(),
        "city" => format!("{}{}", authority.province_name(), authority.city_name().unwrap_or_default()),
        _ => authority.full_name(),
    }
}

/// When a permit is needed, as the letter says it.
fn timing_label(timing: Option<scope::Timing>) -> &'static str {
    match timing {
        Some(scope::Timing::Pre) => "前置许可：须在申请登记前取得许可",
        Some(scope::Timing::Filing) => "备案：领取营业执照后向审批部门办理备案",
        Some(scope::Timing::Post) | None => "后置许可：领取营业执照后，取得许可前不得开展该项经营活动",
    }
}

/// The notice as a letter from the registration authority, dated today
/// (China time).
pub async fn notice_letter(state: &AppState, rec: &ApplicationRecord) -> Result<NoticeLetter> {
    let form = &rec.form;
    let items = notice_entries(state, form)
        .await?
        .into_iter()
        .map(|e| NoticeLetterItem {
            scope_name: e.item.name.into(),
            permit: e.item.permit.unwrap_or_default().into(),
            department_name: e.department_name(),
            jurisdiction: jurisdiction_name(e.level, &form.admin_code),
            timing: timing_label(e.item.timing).into(),
            basis: e.item.basis.map(str::to_string),
        })
        .collect();
    let applicant = form
        .name
        .clone()
        .or_else(|| form.representative().or(form.parties.first()).map(|p| p.name.clone()))
        .unwrap_or_else(|| "申请人".into());
    Ok(NoticeLetter {
        title: notice_pdf::TITLE.into(),
        applicant,
        application_id: rec.row.id,
        authority_name: licence::authority_name(&form.admin_code),
        date: licence::date_in_china(state.now()),
        items,
        commitment: COMMITMENT.into(),
        acknowledged_at: if rec.notice_acknowledged() { rec.row.notice_acknowledged_at } else { None },
    })
}

/// The notice letter as a PDF, rendered on the blocking pool.
pub async fn notice_pdf(state: &AppState, rec: &ApplicationRecord) -> Result<Vec<u8>> {
    let letter = notice_letter(state, rec).await?;
    tokio::task::spawn_blocking(move || notice_pdf::render(&letter))
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))?
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))
}

/// A deregistering enterprise's granted permits: their departments are told.
pub async fn permits_held(tx: &WriteTx, enterprise_id: Uuid) -> Result<Vec<&'static ScopeItem>> {
    let rows = store::notifications::for_enterprise(tx, enterprise_id).await?;
    let mut items: Vec<&'static ScopeItem> = rows
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("licensed"))
        .filter_map(|r| scope::lookup(&r.scope_code))
        .collect();
    items.sort_by_key(|i| i.code);
    items.dedup_by_key(|i| i.code);
    Ok(items)
}

/// Where one licensed item of an enterprise stands.
#[derive(Debug, Clone)]
pub struct Permit {
    pub scope_code: String,
    pub permit: String,
    pub status: PermitStatus,
    pub permit_no: Option<String>,
    pub valid_until: Option<NaiveDate>,
}

/// The latest answer per licensed item of an enterprise.
pub fn permit_statuses(rows: &[Row]) -> Vec<Permit> {
    let mut out: Vec<Permit> = Vec::new();
    for r in rows.iter().filter(|r| r.reason != "deregister") {
        let p = Permit {
            scope_code: r.scope_code.clone(),
            permit: r.permit.clone(),
            status: PermitStatus::from_outcome(r.outcome.as_deref()),
            permit_no: r.permit_no.clone(),
            valid_until: r.valid_until,
        };
        match out.iter_mut().find(|o| o.scope_code == r.scope_code) {
            Some(o) => *o = p,
            None => out.push(p),
        }
    }
    out
}

/// The department the principal's key belongs to.
pub async fn department_of(state: &AppState, p: &Principal) -> Result<DepartmentRow> {
    let Principal::Staff(s) = p else { return Err(Error::new(Code::Forbidden)) };
    let StaffRole::Department { code } = &s.role else { return Err(Error::new(Code::Forbidden)) };
    store::notifications::department(state.db.conn(), code).await?.filter(|d| d.disabled_at.is_none()).ok_or_else(
        || Error::new(Code::Forbidden).detail("该部门不在部门名录中", "The department is not in the directory"),
    )
}

pub struct ListQuery {
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<(Vec<Row>, Option<Uuid>)> {
    let dept = department_of(state, p).await?;
    let now = state.now();
    let rows = store::notifications::list(
        state.db.conn(),
        store::notifications::ListFilter {
            dept: &dept,
            status: q.status.as_deref(),
            overdue_at: (q.overdue == Some(true)).then_some(now),
            since: q.since,
            until: q.until,
            after: q.after,
            limit: q.limit + 1,
        },
    )
    .await?;
    let more = rows.len() as u64 > q.limit;
    let mut rows: Vec<Row> = rows.into_iter().take(q.limit as usize).collect();
    if q.overdue == Some(false) {
        rows.retain(|r| !is_overdue(r, now));
    }
    let next = if more { rows.last().map(|r| r.id) } else { None };
    Ok((rows, next))
}

pub fn is_overdue(r: &Row, now: DateTime<Utc>) -> bool {
    match r.status.as_str() {
        "pending" => r.claim_due_at < now,
        "claimed" => r.feedback_due_at.is_some_and(|d| d < now),
        _ => false,
    }
}

/// The department acknowledges receipt (认领); a pooled notification
/// becomes this department's.
pub async fn claim(state: &AppState, p: &Principal, id: Uuid) -> Result<Row> {
    let dept = department_of(state, p).await?;
    let now = state.now();
    let tx = state.db.write().await?;
    let row = store::notifications::find_for(&tx, &dept, id).await?.ok_or_else(Error::not_found)?;
    if row.status != "pending" {
        if row.department_code.as_deref() == Some(&dept.code) && row.status == "claimed" {
            return Ok(row);
        }
        return Err(Error::new(Code::InvalidState)
            .detail(format!("当前状态为 {}", row.status), format!("The notification is {}", row.status)));
    }
    let mut am: entities::notification::ActiveModel = row.clone().into();
    am.status = Set("claimed".into());
    am.department_code = Set(Some(dept.code.clone()));
    am.claimed_at = Set(Some(now));
    am.claimed_by = Set(Some(p.actor().id));
    am.feedback_due_at = Set(Some(state.calendar.add_working_days(now, dept.feedback_days as u32)));
    store::notifications::update(&tx, am).await?;
    audit::record(
        &tx,
        now,
        &p.actor(),
        "notification.claimed",
        Subject { kind: "notification", id: &id.to_string() },
        None,
        None,
        json!({ "department": dept.code, "from_pool": row.department_code.is_none() }),
    )
    .await?;
    let row = store::notifications::find_for(&tx, &dept, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(row)
}

pub struct Feedback {
    pub outcome: String,
    pub permit_no: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// The department reports back: licensed (permit number, validity),
/// refused (reason) or not required. The enterprise's permit status follows.
pub async fn feedback(state: &AppState, p: &Principal, id: Uuid, f: Feedback) -> Result<Row> {
    let mut errors = Vec::new();
    match f.outcome.as_str() {
        "licensed" if f.permit_no.as_deref().is_none_or(|s| s.trim().is_empty()) => {
            errors.push(FieldError::new("permit_no", "required"))
        }
        "refused" if f.reason.as_deref().is_none_or(|s| s.trim().is_empty()) => {
            errors.push(FieldError::new("reason", "required"))
        }
        "licensed" | "refused" | "not_required" => {}
        _ => {
            errors.push(FieldError::new("outcome", "invalid_value").with("detail", "licensed, refused or not_required"))
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let dept = department_of(state, p).await?;
    let now = state.now();
    let tx = state.db.write().await?;
    let row = store::notifications::find_for(&tx, &dept, id).await?.ok_or_else(Error::not_found)?;
    let mine = row.department_code.as_deref().is_none_or(|c| c == dept.code);
    if row.status == "closed" || !mine {
        return Err(Error::new(Code::InvalidState)
            .detail(format!("当前状态为 {}", row.status), format!("The notification is {}", row.status)));
    }
    let mut am: entities::notification::ActiveModel = row.clone().into();
    if row.status == "pending" {
        am.claimed_at = Set(Some(now));
        am.claimed_by = Set(Some(p.actor().id));
        am.department_code = Set(Some(dept.code.clone()));
    }
    am.status = Set("closed".into());
    am.outcome = Set(Some(f.outcome.clone()));
    am.permit_no = Set(f.permit_no.clone().map(|s| s.trim().to_string()));
    am.valid_until = Set(f.valid_until);
    am.feedback_reason = Set(f.reason.clone());
    am.closed_at = Set(Some(now));
    store::notifications::update(&tx, am).await?;
    audit::record(
        &tx,
        now,
        &p.actor(),
        "notification.feedback",
        Subject { kind: "notification", id: &id.to_string() },
        None,
        None,
        json!({ "department": dept.code, "outcome": f.outcome, "permit_no": f.permit_no, "valid_until": f.valid_until, "uscc": row.uscc, "scope": row.scope_code }),
    )
    .await?;
    audit::record(
        &tx,
        now,
        &p.actor(),
        "enterprise.permit_status",
        Subject { kind: "enterprise", id: &row.uscc },
        None,
        None,
        json!({ "scope": row.scope_code, "status": PermitStatus::from_outcome(Some(&f.outcome)).as_str() }),
    )
    .await?;
    crate::services::events::permit_changed(
        &tx,
        &row.uscc,
        &row.scope_code,
        PermitStatus::from_outcome(Some(&f.outcome)),
        now,
    )
    .await?;
    let row = store::notifications::find_for(&tx, &dept, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(row)
}

/// Overdue notifications by department (the pool counted under its jurisdiction).
pub async fn overdue_report(state: &AppState) -> Result<Vec<(String, Option<String>, u64, u64)>> {
    let now = state.now();
    let rows = store::notifications::all_overdue(state.db.conn(), now).await?;
    let depts = store::notifications::departments(state.db.conn()).await?;
    let mut out: Vec<(String, Option<String>, u64, u64)> = Vec::new();
    for r in rows {
        let key = r.department_code.clone().unwrap_or_else(|| format!("pool:{}", r.jurisdiction));
        let name = r.department_code.as_ref().and_then(|c| depts.iter().find(|d| &d.code == c).map(|d| d.name.clone()));
        let (claim, feedback) = if r.status == "pending" { (1, 0) } else { (0, 1) };
        match out.iter_mut().find(|o| o.0 == key) {
            Some(o) => {
                o.2 += claim;
                o.3 += feedback;
            }
            None => out.push((key, name, claim, feedback)),
        }
    }
    out.sort();
    Ok(out)
}

/// A department as the admin API and CLI register it.
pub struct NewDepartment {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub admin_code: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub claim_days: Option<i32>,
    pub feedback_days: Option<i32>,
}

/// Checks a department's fields; every problem at once.
pub fn validate(d: &NewDepartment) -> std::result::Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    if d.code.trim().is_empty()
        || d.code.len() > 64
        || !d.code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        e.push(FieldError::new("code", "invalid_format").with("expected", "1-64 of [A-Za-z0-9_-]"));
    }
    if d.name.trim().is_empty() {
        e.push(FieldError::new("name", "required"));
    }
    if !notification::kinds().contains(&d.kind.as_str()) {
        e.push(FieldError::new("kind", "invalid_value").with("detail", notification::kinds().join(", ")));
    }
    let ac = &d.admin_code;
    let ok = ac.len() == 6
        && ac.bytes().all(|b| b.is_ascii_digit())
        && (ac == "000000"
            || AdminCode::parse(ac).is_ok()
            || (ac.ends_with("00") && crate::domain::divisions::city_name(&ac[..4]).is_some()
                || crate::domain::divisions::cities().any(|(c, _)| c == &ac[..4]))
            || (ac.ends_with("0000") && crate::domain::divisions::province_name(&ac[..2]).is_some()));
    if !ok {
        e.push(FieldError::new("admin_code", "unknown_division"));
    }
    match (&d.webhook_url, &d.webhook_secret) {
        (Some(u), s) => {
            if url::Url::parse(u).map(|x| !matches!(x.scheme(), "http" | "https")).unwrap_or(true) {
                e.push(FieldError::new("webhook_url", "invalid_url"));
            }
            if s.as_deref().is_none_or(|s| s.len() < 16) {
                e.push(FieldError::new("webhook_secret", "invalid_length").with("expected", "at least 16 bytes"));
            }
        }
        (None, Some(_)) => e.push(FieldError::new("webhook_url", "required")),
        (None, None) => {}
    }
    for (f, v) in [("claim_days", d.claim_days), ("feedback_days", d.feedback_days)] {
        if v.is_some_and(|v| !(0..=365).contains(&v)) {
            e.push(FieldError::new(f, "invalid_value").with("detail", "0..=365"));
        }
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

pub async fn upsert_department(state: &AppState, actor: &Actor, d: NewDepartment) -> Result<DepartmentRow> {
    validate(&d).map_err(Error::validation)?;
    let now = state.now();
    let tx = state.db.write().await?;
    let row = entities::department::Model {
        code: d.code.trim().into(),
        name: d.name.trim().into(),
        kind: d.kind.clone(),
        admin_code: d.admin_code.clone(),
        webhook_url: d.webhook_url.clone(),
        webhook_secret: d.webhook_secret.clone(),
        claim_days: d.claim_days.unwrap_or(state.settings.notification_claim_days as i32),
        feedback_days: d.feedback_days.unwrap_or(state.settings.notification_feedback_days as i32),
        created_at: now,
        disabled_at: None,
    };
    store::notifications::upsert_department(&tx, row.clone()).await?;
    audit::record(
        &tx,
        now,
        actor,
        "department.registered",
        Subject { kind: "department", id: &row.code },
        None,
        None,
        json!({ "name": row.name, "kind": row.kind, "admin_code": row.admin_code, "webhook": row.webhook_url }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Department CSV: `code,name,kind,admin_code,webhook_url,webhook_secret,claim_days,feedback_days`
/// with a header row. Every bad line is reported before anything is written.
pub fn parse_departments_csv(text: &str) -> std::result::Result<Vec<NewDepartment>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let opt = |k: usize| f.get(k).filter(|s| !s.is_empty()).map(|s| s.to_string());
        let num = |k: usize| f.get(k).filter(|s| !s.is_empty()).map(|s| s.parse::<i32>());
        if f.len() < 4 {
            errors.push(
                FieldError::new(format!("line {}", i + 1), "invalid_format").with(
                    "expected",
                    "code,name,kind,admin_code[,webhook_url,webhook_secret,claim_days,feedback_days]",
                ),
            );
            continue;
        }
        let (claim, feedback) = (num(6), num(7));
        if matches!(claim, Some(Err(_))) || matches!(feedback, Some(Err(_))) {
            errors.push(
                FieldError::new(format!("line {}", i + 1), "invalid_format").with("expected", "days as integers"),
            );
            continue;
        }
        let d = NewDepartment {
            code: f[0].into(),
            name: f[1].into(),
            kind: f[2].into(),
            admin_code: f[3].into(),
            webhook_url: opt(4),
            webhook_secret: opt(5),
            claim_days: claim.and_then(|r| r.ok()),
            feedback_days: feedback.and_then(|r| r.ok()),
        };
        match validate(&d) {
            Ok(()) => out.push(d),
            Err(es) => errors.extend(es.into_iter().map(|e| e.under(&format!("line {}", i + 1)))),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// An admin sends a dead message through another cycle of attempts.
/// Returns the delivery as this transaction left it: read after the
/// commit, the worker (woken by it) may already have sent it.
pub async fn retry_delivery(state: &AppState, actor: &Actor, id: i64) -> Result<store::outbox::Row> {
    let now = state.now();
    let tx = state.db.write().await?;
    if !store::outbox::retry(&tx, id, now).await? {
        return Err(match store::outbox::find(&tx, id).await? {
            Some(r) => Error::new(Code::InvalidState)
                .detail(format!("当前状态为 {}", r.status), format!("The delivery is {}", r.status)),
            None => Error::not_found(),
        });
    }
    audit::record(
        &tx,
        now,
        actor,
        "delivery.retried",
        Subject { kind: "outbox", id: &id.to_string() },
        None,
        None,
        json!({}),
    )
    .await?;
    let row = store::outbox::find(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(row)
}
