//! The applicant's side of registration: drafts, edits under `If-Match`,
//! e-signatures, the notice acknowledgement, submission and withdrawal.
use entities::signature;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    idempotency::{Idem, Replay},
    names, review,
};
use crate::{
    domain::{
        FieldError,
        application::{Event, Status},
        form::{Form, Kind, Party},
        principal::{Applicant, Principal},
        resident_id,
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{self, applications::Row},
};

/// An application as stored, with its parsed form and the signatures on its
/// current version.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    pub row: Row,
    pub form: Form,
    pub signatures: Vec<signature::Model>,
}

impl ApplicationRecord {
    pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Self>> {
        let Some(row) = store::applications::find(db, id).await? else { return Ok(None) };
        let form: Form =
            serde_json::from_str(&row.form).map_err(|e| Error::internal(anyhow::anyhow!("stored form {id}: {e}")))?;
        let signatures = store::applications::signatures(db, id, row.version).await?;
        Ok(Some(Self { row, form, signatures }))
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.row.status).unwrap_or(Status::Draft)
    }

    /// Whether this party has signed the current version's digest.
    pub fn has_signed(&self, id_number: &str) -> bool {
        self.signatures.iter().any(|s| s.id_number == id_number && s.digest == self.row.form_digest)
    }

    /// Parties (with their index in the form) still to sign.
    pub fn unsigned(&self) -> Vec<(usize, &Party)> {
        self.form
            .signatories()
            .into_iter()
            .enumerate()
            .filter(|(_, p)| !self.has_signed(p.id_number.as_str()))
            .collect()
    }

    pub fn notice_acknowledged(&self) -> bool {
        self.row.notice_acknowledged_version == Some(self.row.version)
    }

    /// Everything that stands between this application and submission.
    pub fn outstanding(&self) -> Vec<FieldError> {
        let mut out = self.form.completeness();
        for (i, p) in self.unsigned() {
            out.push(
                FieldError::new(format!("parties[{i}]"), "signature_missing")
                    .with("name", p.name.clone())
                    .with("id_number", p.id_number.masked()),
            );
        }
        if self.form.has_licensed_items() && !self.notice_acknowledged() {
            out.push(FieldError::new("notice", "acknowledgement_missing"));
        }
        out
    }

    fn is_creator(&self, a: &Applicant) -> bool {
        self.row.applicant_id_number == a.id_number.as_str()
    }

    fn names_party(&self, a: &Applicant) -> bool {
        self.form.parties.iter().any(|p| p.id_number == a.id_number)
    }
}

/// Loads an application the principal may see; anything else is 404.
pub async fn get(state: &AppState, principal: &Principal, id: Uuid) -> Result<ApplicationRecord> {
    let rec = ApplicationRecord::load(state.db.conn(), id).await?.ok_or_else(Error::not_found)?;
    let visible = match principal {
        Principal::Applicant(a) => rec.is_creator(a) || rec.names_party(a),
        // Drafts are the applicant's own business until submitted.
        Principal::Staff(_) => {
            principal.reviewer_authority().is_some_and(|auth| auth.as_str() == rec.row.authority)
                && rec.row.submitted_at.is_some()
        }
    };
    if visible { Ok(rec) } else { Err(Error::not_found()) }
}

/// Loads for a change by the applicant who created it (parties may look and
/// sign but not edit).
async fn load_own(db: &impl ConnectionTrait, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let rec = ApplicationRecord::load(db, id).await?.ok_or_else(Error::not_found)?;
    if rec.is_creator(a) {
        Ok(rec)
    } else if rec.names_party(a) {
        Err(Error::new(Code::Forbidden)
            .detail("只有申请人可以修改、提交或撤回申请", "Only the applicant may edit, submit or withdraw"))
    } else {
        Err(Error::not_found())
    }
}

fn transition(rec: &ApplicationRecord, event: Event) -> Result<Status> {
    rec.status().apply(event).map_err(|t| {
        Error::new(Code::InvalidState).detail(
            format!("申请当前状态为“{}”，不能执行此操作", t.from),
            format!("The application is {}; {:?} is not possible", t.from, t.event),
        )
    })
}

/// Checks a change or deregistration against the enterprise it targets.
async fn check_target(db: &impl ConnectionTrait, a: &Applicant, form: &Form) -> Result<()> {
    let Some(uscc) = &form.uscc else { return Ok(()) };
    let ent = store::enterprises::find_by_uscc(db, uscc.as_str()).await?;
    let Some(ent) = ent else {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("uscc", "not_found")));
    };
    let profile: Form = serde_json::from_str(&ent.profile)
        .map_err(|e| Error::internal(anyhow::anyhow!("profile {}: {e}", ent.uscc)))?;
    let entitled = ent.owner_id_number == a.id_number.as_str()
        || profile.representative().is_some_and(|p| p.id_number == a.id_number);
    if !entitled {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("uscc", "not_found")));
    }
    if ent.status != "active" {
        return Err(Error::field(Code::InvalidState, FieldError::new("uscc", "enterprise_not_changeable")));
    }
    let mut errors = Vec::new();
    if ent.entity_type != form.entity_type.as_str() {
        errors.push(FieldError::new("entity_type", "wrong_kind"));
    }
    if ent.authority != form.admin_code.as_str() {
        errors.push(
            FieldError::new("admin_code", "wrong_kind")
                .with("detail", "registered elsewhere; moves across authorities are registered at the new one"),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::validation(errors)) }
}

fn validate_kind(form: &Form) -> Result<()> {
    let mut errors = Vec::new();
    match form.kind {
        Kind::Establish => {
            if form.uscc.is_some() {
                errors.push(FieldError::new("uscc", "wrong_kind"));
            }
            if form.deregistration.is_some() {
                errors.push(FieldError::new("deregistration", "wrong_kind"));
            }
        }
        Kind::Change => {
            if form.deregistration.is_some() {
                errors.push(FieldError::new("deregistration", "wrong_kind"));
            }
        }
        Kind::Deregister => {}
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::validation(errors)) }
}

async fn write_parties(db: &impl ConnectionTrait, id: Uuid, form: &Form) -> Result<()> {
    let rows = form
        .parties
        .iter()
        .map(|p| store::applications::PartyRow {
            id_number: p.id_number.as_str(),
            name: &p.name,
            roles: p
                .roles
                .iter()
                .map(|r| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        })
        .collect::<Vec<_>>();
    // A person listed twice is reported by completeness; keep one row each.
    let mut seen = std::collections::HashSet::new();
    let rows = rows.into_iter().filter(|r| seen.insert(r.id_number)).collect();
    store::applications::replace_parties(db, id, rows).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(kind = form.kind.as_str()))]
pub async fn create(state: &AppState, a: &Applicant, form: Form) -> Result<ApplicationRecord> {
    validate_kind(&form)?;
    check_target(state.db.conn(), a, &form).await?;
    let id = Uuid::now_v7();
    let now = state.now();
    let digest = form.digest(id);
    let tx = state.db.write().await?;
    store::applications::insert(
        &*tx,
        entities::application::ActiveModel {
            id: Set(id),
            kind: Set(form.kind.as_str().into()),
            entity_type: Set(form.entity_type.as_str().into()),
            authority: Set(form.admin_code.to_string()),
            status: Set(Status::Draft.as_str().into()),
            version: Set(1),
            name: Set(form.name.clone()),
            form: Set(form.canonical_json()),
            form_digest: Set(digest),
            applicant_id_number: Set(a.id_number.to_string()),
            applicant_name: Set(a.name.clone()),
            channel_id: Set(a.channel_id.clone()),
            target_uscc: Set(form.uscc.as_ref().map(|u| u.to_string())),
            created_at: Set(now),
            updated_at: Set(now),
            submitted_at: Set(None),
            due_at: Set(None),
            decided_at: Set(None),
            decided_by: Set(None),
            reviewer_key_id: Set(None),
            decision_reason: Set(None),
            field_comments: Set(None),
            auto_review: Set(None),
            notice_acknowledged_version: Set(None),
            notice_acknowledged_at: Set(None),
            uscc: Set(None),
            enterprise_id: Set(None),
        },
    )
    .await?;
    write_parties(&*tx, id, &form).await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &*tx,
        now,
        &actor,
        "application.created",
        Subject { kind: "application", id: &id.to_string() },
        None,
        Some(1),
        json!({ "kind": form.kind.as_str(), "entity_type": form.entity_type.as_str() }),
    )
    .await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn list_mine(
    state: &AppState,
    a: &Applicant,
    before: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<ApplicationRecord>, Option<Uuid>)> {
    let rows = store::applications::list_for_person(state.db.conn(), a.id_number.as_str(), before, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let mut out = Vec::new();
    for row in rows.into_iter().take(limit as usize) {
        let form: Form =
            serde_json::from_str(&row.form).map_err(|e| Error::internal(anyhow::anyhow!("stored form: {e}")))?;
        let signatures = store::applications::signatures(state.db.conn(), row.id, row.version).await?;
        out.push(ApplicationRecord { row, form, signatures });
    }
    let next = if more { out.last().map(|r| r.row.id) } else { None };
    Ok((out, next))
}

/// Replaces the form. `if_match` must be the current version; every edit
/// makes a new version, so earlier signatures no longer count.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn update(state: &AppState, a: &Applicant, id: Uuid, if_match: i32, form: Form) -> Result<ApplicationRecord> {
    validate_kind(&form)?;
    check_target(state.db.conn(), a, &form).await?;
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&*tx, a, id).await?;
    if rec.row.version != if_match {
        return Err(precondition_failed(rec.row.version));
    }
    if rec.form.kind != form.kind {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("kind", "wrong_kind")));
    }
    transition(&rec, Event::Edit)?;
    let version = rec.row.version + 1;
    let changes = entities::application::ActiveModel {
        version: Set(version),
        name: Set(form.name.clone()),
        entity_type: Set(form.entity_type.as_str().into()),
        authority: Set(form.admin_code.to_string()),
        form: Set(form.canonical_json()),
        form_digest: Set(form.digest(id)),
        target_uscc: Set(form.uscc.as_ref().map(|u| u.to_string())),
        updated_at: Set(now),
        ..Default::default()
    };
    if !store::applications::update_if(&*tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version + 1));
    }
    write_parties(&*tx, id, &form).await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &*tx,
        now,
        &actor,
        "application.updated",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(version),
        json!({ "signatures_cleared": rec.signatures.len() }),
    )
    .await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

fn precondition_failed(current: i32) -> Error {
    Error::new(Code::PreconditionFailed)
        .detail(format!("当前版本为 {current}"), format!("The current version is {current}"))
}

/// The signed-in person signs the current version, if the form names them.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn sign(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    let party = rec.form.parties.iter().find(|p| p.id_number == a.id_number);
    let Some(party) = party else {
        return Err(if rec.is_creator(a) {
            Error::field(Code::Forbidden, FieldError::new("parties", "not_a_party"))
        } else {
            Error::not_found()
        });
    };
    transition(&rec, Event::Sign)?;
    let incomplete = rec.form.completeness();
    if !incomplete.is_empty() {
        return Err(Error::new(Code::FormIncomplete).with_errors(incomplete));
    }
    if rec.has_signed(a.id_number.as_str()) {
        return Ok(rec);
    }
    store::applications::insert_signature(
        &*tx,
        store::applications::NewSignature {
            application_id: id,
            version: rec.row.version,
            id_number: a.id_number.as_str(),
            name: &party.name,
            digest: &rec.row.form_digest,
            channel_id: &a.channel_id,
            session_id: a.session_id,
            at: now,
        },
    )
    .await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &*tx,
        now,
        &actor,
        "application.signed",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "digest": rec.row.form_digest, "signer": resident_id::mask(a.id_number.as_str()) }),
    )
    .await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

/// The applicant's commitment not to trade in licensed items before the
/// permits are granted (dual notification), bound to the current version.
pub async fn acknowledge_notice(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&*tx, a, id).await?;
    transition(&rec, Event::Edit)?;
    if rec.notice_acknowledged() {
        return Ok(rec);
    }
    let changes = entities::application::ActiveModel {
        notice_acknowledged_version: Set(Some(rec.row.version)),
        notice_acknowledged_at: Set(Some(now)),
        ..Default::default()
    };
    if !store::applications::update_if(&*tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version));
    }
    let actor = Principal::Applicant(a.clone()).actor();
    let permits: Vec<&str> = rec.form.scope.iter().filter_map(|s| s.permit).collect();
    audit::record(
        &*tx,
        now,
        &actor,
        "notice.acknowledged",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "permits": permits, "channel": a.channel_id }),
    )
    .await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

pub enum Submitted {
    Fresh(Box<ApplicationRecord>),
    Replayed(Replay),
}

/// Submits for review (and approves at once where the automatic rules
/// allow). With an `Idempotency-Key`, the first success is remembered in the
/// same transaction and any repeat gets that answer back.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn submit(
    state: &AppState,
    a: &Applicant,
    id: Uuid,
    idem: Option<&Idem>,
    render: impl Fn(&ApplicationRecord) -> String,
) -> Result<Submitted> {
    let attempt = submit_once(state, a, id, idem, &render).await;
    match (attempt, idem) {
        // A concurrent duplicate may have won the race: answer with its result.
        (Err(e), Some(idem)) if matches!(e.code, Code::InvalidState | Code::PreconditionFailed | Code::Internal) => {
            match idem.lookup(state.db.conn()).await? {
                Some(replay) => Ok(Submitted::Replayed(replay)),
                None => Err(e),
            }
        }
        (r, _) => r,
    }
}

async fn submit_once(
    state: &AppState,
    a: &Applicant,
    id: Uuid,
    idem: Option<&Idem>,
    render: &impl Fn(&ApplicationRecord) -> String,
) -> Result<Submitted> {
    let now = state.now();
    let tx = state.db.write().await?;
    if let Some(idem) = idem
        && let Some(replay) = idem.lookup(&*tx).await?
    {
        return Ok(Submitted::Replayed(replay));
    }
    let rec = load_own(&*tx, a, id).await?;
    let next = transition(&rec, Event::Submit)?;
    let outstanding = rec.outstanding();
    if !outstanding.is_empty() {
        return Err(Error::new(Code::SubmissionIncomplete).with_errors(outstanding));
    }
    let actor = Principal::Applicant(a.clone()).actor();

    // The name: checked and reserved inside this transaction.
    let mut name_outcome = None;
    if let Some(name) = rec.form.name.as_deref().filter(|_| rec.form.kind != Kind::Deregister) {
        let rules = crate::domain::name::check(name, rec.form.entity_type, &rec.form.admin_code);
        if let Some(parts) = &rules.parts {
            names::lock_trade_name(&*tx, &rec.form.admin_code, &parts.trade_name).await?;
        }
        let enterprise_id = match &rec.form.uscc {
            Some(u) => store::enterprises::find_by_uscc(&*tx, u.as_str()).await?.map(|e| e.id),
            None => None,
        };
        let outcome = names::check(
            &*tx,
            name,
            rec.form.entity_type,
            &rec.form.admin_code,
            names::Exclude { application_id: Some(id), enterprise_id },
            now,
        )
        .await?;
        if !outcome.available() {
            return Err(Error::new(Code::NameUnavailable).with_errors(outcome.field_errors("name")));
        }
        store::names::release_reservation(&*tx, id).await?;
        let parts = outcome.parts.as_ref().expect("available names parse");
        let keeps_own_name = enterprise_id.is_some()
            && outcome.conflicts.is_empty()
            && rec.row.target_uscc.is_some()
            && is_current_name(&*tx, rec.row.target_uscc.as_deref(), name).await?;
        if !keeps_own_name {
            store::names::insert(
                &*tx,
                store::names::NewName {
                    authority: rec.form.admin_code.as_str(),
                    full_name: &parts.full,
                    trade_name: &parts.trade_name,
                    industry: parts.industry.as_deref(),
                    state: "reserved",
                    application_id: Some(id),
                    enterprise_id: None,
                    uscc: None,
                    reserved_until: Some(now + chrono::Duration::days(state.settings.name_reservation_days)),
                    now,
                },
            )
            .await?;
        }
        name_outcome = Some(outcome);
    }

    let due_at = state.calendar.add_working_days(now, state.settings.review_working_days);
    let changes = entities::application::ActiveModel {
        status: Set(next.as_str().into()),
        submitted_at: Set(Some(now)),
        due_at: Set(Some(due_at)),
        updated_at: Set(now),
        ..Default::default()
    };
    if !store::applications::update_if(&*tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version));
    }
    let similar: Vec<String> = name_outcome.iter().flat_map(|o| o.conflicts.iter().map(|c| c.name.clone())).collect();
    audit::record(
        &*tx,
        now,
        &actor,
        "application.submitted",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "due_at": due_at, "similar_names": similar, "resubmission": rec.status() == Status::Returned }),
    )
    .await?;

    let mut rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    if review::auto_approve(state, &*tx, &rec, name_outcome.as_ref(), now).await? {
        rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    }
    if let Some(idem) = idem {
        idem.remember(&*tx, 200, &render(&rec), now).await?;
    }
    tx.commit().await?;
    Ok(Submitted::Fresh(Box::new(rec)))
}

async fn is_current_name(db: &impl ConnectionTrait, uscc: Option<&str>, name: &str) -> Result<bool> {
    let Some(uscc) = uscc else { return Ok(false) };
    Ok(store::enterprises::find_by_uscc(db, uscc)
        .await?
        .and_then(|e| e.name)
        .is_some_and(|n| n == crate::domain::name::normalize(name)))
}

/// Withdraws an application that has not been decided.
pub async fn withdraw(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&*tx, a, id).await?;
    let next = transition(&rec, Event::Withdraw)?;
    let changes = entities::application::ActiveModel {
        status: Set(next.as_str().into()),
        updated_at: Set(now),
        decided_at: Set(Some(now)),
        ..Default::default()
    };
    if !store::applications::update_if(&*tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version));
    }
    store::names::release_reservation(&*tx, id).await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &*tx,
        now,
        &actor,
        "application.withdrawn",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "from": rec.row.status }),
    )
    .await?;
    let rec = ApplicationRecord::load(&*tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}
