//! The applicant's side of registration: drafts, edits under `If-Match`,
//! materials, e-signatures, the notice acknowledgement, submission (with the
//! name reservation, credit checks and, for simplified deregistration, the
//! public notice) and withdrawal.
use chrono::{DateTime, Duration, Utc};
use entities::signature;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    idempotency::Idem,
    names, places, review,
};
use crate::{
    domain::{
        FieldError,
        application::{Event, Status},
        change,
        entity_type::EntityType,
        form::{DeregistrationMode, Form, Kind, Party, Role},
        licence, materials,
        principal::{Applicant, Principal},
        resident_id,
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{self, applications::Row},
};

/// An application as stored, with its parsed form, the signatures on its
/// current version, its materials and, for a change or deregistration, the
/// enterprise's registered facts.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    pub row: Row,
    pub form: Form,
    pub signatures: Vec<signature::Model>,
    pub materials: Vec<store::materials::Meta>,
    pub registered: Option<Form>,
    pub notice: Option<store::notices::Row>,
}

fn parse_form(json: &str, what: &str) -> Result<Form> {
    serde_json::from_str(json).map_err(|e| Error::internal(anyhow::anyhow!("stored form {what}: {e}")))
}

impl ApplicationRecord {
    pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Self>> {
        let Some(w) = store::applications::find_with_children(db, id, None).await? else { return Ok(None) };
        Self::assemble(db, w.row, w.signatures, w.materials).await.map(Some)
    }

    /// As `load`, holding the application's row lock (PostgreSQL) until the
    /// transaction ends: for a use case that decides on it and writes it
    /// back with [`store::applications::update_locked`].
    pub async fn load_locked(db: &store::WriteTx, id: Uuid) -> Result<Option<Self>> {
        let Some(w) = store::applications::find_with_children_locked(db, id, None).await? else { return Ok(None) };
        Self::assemble(db, w.row, w.signatures, w.materials).await.map(Some)
    }

    /// As `load_locked`, with the credit restrictions in force today on the
    /// application's parties, read in the same statement.
    async fn load_with_restrictions(
        db: &store::WriteTx,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<(Self, Vec<store::restrictions::Row>)>> {
        let today = licence::date_in_china(now);
        let Some(w) = store::applications::find_with_children_locked(db, id, Some(today)).await? else {
            return Ok(None);
        };
        let rec = Self::assemble(db, w.row, w.signatures, w.materials).await?;
        Ok(Some((rec, w.restrictions)))
    }

    pub async fn from_row(db: &impl ConnectionTrait, row: Row) -> Result<Self> {
        let signatures = store::applications::signatures(db, row.id, row.version).await?;
        let materials = store::materials::list(db, row.id).await?;
        Self::assemble(db, row, signatures, materials).await
    }

    async fn assemble(
        db: &impl ConnectionTrait,
        row: Row,
        signatures: Vec<signature::Model>,
        materials: Vec<store::materials::Meta>,
    ) -> Result<Self> {
        let form = parse_form(&row.form, &row.id.to_string())?;
        let registered = match &row.target_uscc {
            Some(u) => match store::enterprises::find_by_uscc(db, u).await? {
                Some(e) => Some(parse_form(&e.profile, &e.uscc)?),
                None => None,
            },
            None => None,
        };
        let notice = if form.deregistration.as_ref().is_some_and(|d| d.mode == DeregistrationMode::Simplified) {
            store::notices::for_application(db, row.id).await?
        } else {
            None
        };
        Ok(Self { row, form, signatures, materials, registered, notice })
    }

    /// Re-reads the row after a change made in this transaction (and the
    /// signatures or notice when they may have moved): cheaper than a reload.
    pub async fn refresh(&mut self, db: &impl ConnectionTrait) -> Result<()> {
        let row = store::applications::find(db, self.row.id).await?.ok_or_else(Error::not_found)?;
        if row.version != self.row.version {
            self.signatures = store::applications::signatures(db, row.id, row.version).await?;
        }
        if row.form != self.row.form {
            self.form = parse_form(&row.form, &row.id.to_string())?;
        }
        if self.form.deregistration.as_ref().is_some_and(|d| d.mode == DeregistrationMode::Simplified) {
            self.notice = store::notices::for_application(db, row.id).await?;
        }
        self.row = row;
        Ok(())
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

    /// The dual-notification commitment is taken where licensed items are
    /// chosen: at establishment, and at a change that adds some.
    pub fn acknowledgement_required(&self) -> bool {
        match (self.form.kind, &self.registered) {
            (Kind::Establish, _) => self.form.has_licensed_items(),
            (Kind::Change, Some(old)) => self.form.scope.iter().any(|s| {
                s.class == crate::domain::scope::Class::Licensed && !old.scope.iter().any(|o| o.code == s.code)
            }),
            _ => false,
        }
    }

    pub fn notice_acknowledged(&self) -> bool {
        self.row.notice_acknowledged_version == Some(self.row.version)
    }

    /// The materials this application needs, each with whether it is there.
    pub fn material_requirements(&self) -> Vec<(materials::Requirement, bool)> {
        let reqs = match (&self.registered, self.form.kind) {
            (Some(old), Kind::Change) => materials::required_for_change(old, &self.form),
            _ => materials::required(&self.form),
        };
        reqs.into_iter()
            .map(|r| {
                let present = self.materials.iter().any(|m| r.any_of.iter().any(|k| k.as_str() == m.kind));
                (r, present)
            })
            .collect()
    }

    /// What the form must satisfy for its kind, beyond its entity type's rules.
    fn kind_problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let (Kind::Change, Some(old)) = (self.form.kind, &self.registered)
            && change::diff(old, &self.form).is_empty()
        {
            out.push(FieldError::new("", "no_change"));
        }
        out
    }

    /// Everything that stands between this application and submission.
    pub fn outstanding(&self) -> Vec<FieldError> {
        let mut out = self.form.completeness();
        out.extend(self.kind_problems());
        for (req, present) in self.material_requirements() {
            if !present {
                let kinds: Vec<&str> = req.any_of.iter().map(|k| k.as_str()).collect();
                out.push(
                    FieldError::new(format!("materials.{}", req.key()), "material_missing")
                        .with("any_of", kinds.join(" | ")),
                );
            }
        }
        for (i, p) in self.unsigned() {
            out.push(
                FieldError::new(format!("parties[{i}]"), "signature_missing")
                    .with("name", p.name.clone())
                    .with("id_number", p.id_number.masked()),
            );
        }
        if self.acknowledgement_required() && !self.notice_acknowledged() {
            out.push(FieldError::new("notice", "acknowledgement_missing"));
        }
        out
    }

    pub fn material_hashes(&self) -> Vec<&str> {
        self.materials.iter().map(|m| m.sha256.as_str()).collect()
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
pub(crate) async fn load_own(db: &impl ConnectionTrait, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    own(ApplicationRecord::load(db, id).await?, a)
}

fn own(rec: Option<ApplicationRecord>, a: &Applicant) -> Result<ApplicationRecord> {
    let rec = rec.ok_or_else(Error::not_found)?;
    if rec.is_creator(a) {
        Ok(rec)
    } else if rec.names_party(a) {
        Err(Error::new(Code::Forbidden)
            .detail("只有申请人可以修改、提交或撤回申请", "Only the applicant may edit, submit or withdraw"))
    } else {
        Err(Error::not_found())
    }
}

pub(crate) fn transition(rec: &ApplicationRecord, event: Event) -> Result<Status> {
    rec.status().apply(event).map_err(|t| {
        Error::new(Code::InvalidState).detail(
            format!("申请当前状态为“{}”，不能执行此操作", t.from),
            format!("The application is {}; {:?} is not possible", t.from, t.event),
        )
    })
}

/// Checks a change or deregistration against the enterprise it targets, and
/// returns its registered facts.
async fn check_target(db: &impl ConnectionTrait, a: &Applicant, form: &Form) -> Result<Option<Form>> {
    let Some(uscc) = &form.uscc else { return Ok(None) };
    let Some(ent) = store::enterprises::find_by_uscc(db, uscc.as_str()).await? else {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("uscc", "not_found")));
    };
    let profile = parse_form(&ent.profile, &ent.uscc)?;
    let entitled = ent.owner_id_number == a.id_number.as_str()
        || profile.representative().is_some_and(|p| p.id_number == a.id_number);
    if !entitled {
        // Someone else's enterprise is indistinguishable from none.
        return Err(Error::field(Code::ValidationFailed, FieldError::new("uscc", "not_found")));
    }
    if ent.status != "active" {
        return Err(Error::field(
            Code::InvalidState,
            FieldError::new("uscc", "enterprise_not_changeable").with("status", ent.status),
        ));
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
    if errors.is_empty() { Ok(Some(profile)) } else { Err(Error::validation(errors)) }
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

/// A deregistration is signed by the people the registered facts name
/// (operator, investor, every shareholder, the legal representative…): the
/// applicant need not retype them.
fn with_registered_parties(mut form: Form, registered: Option<&Form>) -> Form {
    if form.kind == Kind::Deregister
        && form.parties.is_empty()
        && let Some(reg) = registered
    {
        form.parties = reg.parties.clone();
        form.name = reg.name.clone();
        form.scope = reg.scope.clone();
        form.premises = reg.premises.clone();
        form.domicile = reg.domicile.clone();
        form.capital = reg.capital;
        form.composition = reg.composition;
    }
    form
}

/// The parties as indexed for "applications naming me", once each.
fn party_rows(form: &Form) -> Vec<store::applications::PartyRow<'_>> {
    let mut seen = std::collections::HashSet::new();
    form.parties
        .iter()
        .filter(|p| seen.insert(p.id_number.as_str()))
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
        .collect()
}

#[tracing::instrument(skip_all, fields(kind = form.kind.as_str()))]
pub async fn create(state: &AppState, a: &Applicant, form: Form) -> Result<ApplicationRecord> {
    validate_kind(&form)?;
    let registered = check_target(state.db.conn(), a, &form).await?;
    let form = with_registered_parties(form, registered.as_ref());
    let id = Uuid::now_v7();
    let now = state.now();
    let digest = form.digest(id, &[]);
    let row = entities::application::Model {
        id,
        kind: form.kind.as_str().into(),
        entity_type: form.entity_type.as_str().into(),
        authority: form.admin_code.to_string(),
        status: Status::Draft.as_str().into(),
        version: 1,
        name: form.name.clone(),
        form: form.canonical_json(),
        form_digest: digest,
        applicant_id_number: a.id_number.to_string(),
        applicant_name: a.name.clone(),
        channel_id: a.channel_id.clone(),
        target_uscc: form.uscc.as_ref().map(|u| u.to_string()),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        due_at: None,
        decided_at: None,
        decided_by: None,
        reviewer_key_id: None,
        decision_reason: None,
        field_comments: None,
        auto_review: None,
        notice_acknowledged_version: None,
        notice_acknowledged_at: None,
        uscc: None,
        enterprise_id: None,
    };
    // Write-only, so one batch: the application, its parties, the event.
    let mut batch = state.db.batch();
    let backend = batch.backend();
    batch.push(store::applications::insert(backend, row.clone().into()));
    if let Some(parties) = store::applications::insert_parties(backend, id, party_rows(&form)) {
        batch.push(parties);
    }

    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &batch,
        now,
        &actor,
        "application.created",
        Subject { kind: "application", id: &id.to_string() },
        None,
        Some(1),
        json!({ "kind": form.kind.as_str(), "entity_type": form.entity_type.as_str(), "uscc": form.uscc }),
    )
    .await?;
    state.db.commit_batch(batch).await?;
    Ok(ApplicationRecord { row, form, signatures: vec![], materials: vec![], registered, notice: None })
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
        out.push(ApplicationRecord::from_row(state.db.conn(), row).await?);
    }
    let next = if more { out.last().map(|r| r.row.id) } else { None };
    Ok((out, next))
}

fn precondition_failed(current: i32) -> Error {
    Error::new(Code::PreconditionFailed)
        .detail(format!("当前版本为 {current}"), format!("The current version is {current}"))
}

/// Moves an editable application to a new version with `form` and the
/// materials now attached: a new digest, so earlier signatures no longer count.
pub(crate) async fn new_version(
    db: &impl ConnectionTrait,
    rec: &ApplicationRecord,
    form: &Form,
    material_hashes: &[&str],
    now: DateTime<Utc>,
) -> Result<i32> {
    let version = rec.row.version + 1;
    let changes = entities::application::ActiveModel {
        version: Set(version),
        name: Set(form.name.clone()),
        entity_type: Set(form.entity_type.as_str().into()),
        authority: Set(form.admin_code.to_string()),
        form: Set(form.canonical_json()),
        form_digest: Set(form.digest(rec.row.id, material_hashes)),
        target_uscc: Set(form.uscc.as_ref().map(|u| u.to_string())),
        updated_at: Set(now),
        ..Default::default()
    };
    if !store::applications::update_if(db, rec.row.id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version + 1));
    }
    Ok(version)
}

/// Replaces the form. `if_match` must be the current version; every edit
/// makes a new version, so earlier signatures no longer count.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn update(state: &AppState, a: &Applicant, id: Uuid, if_match: i32, form: Form) -> Result<ApplicationRecord> {
    validate_kind(&form)?;
    let registered = check_target(state.db.conn(), a, &form).await?;
    let form = with_registered_parties(form, registered.as_ref());
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&tx, a, id).await?;
    if rec.row.version != if_match {
        return Err(precondition_failed(rec.row.version));
    }
    if rec.form.kind != form.kind || rec.form.uscc != form.uscc {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("kind", "wrong_kind")));
    }
    transition(&rec, Event::Edit)?;
    let version = new_version(&tx, &rec, &form, &rec.material_hashes(), now).await?;
    store::applications::replace_parties(&tx, id, party_rows(&form)).await?;

    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &tx,
        now,
        &actor,
        "application.updated",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(version),
        json!({ "signatures_cleared": rec.signatures.len() }),
    )
    .await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

/// The signed-in person signs the current version, if the form names them.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn sign(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    let Some((index, party)) = rec.form.parties.iter().enumerate().find(|(_, p)| p.id_number == a.id_number) else {
        return Err(if rec.is_creator(a) {
            Error::field(Code::Forbidden, FieldError::new("parties", "not_a_party"))
        } else {
            Error::not_found()
        });
    };
    transition(&rec, Event::Sign)?;
    // A signature binds the person the channel verified: the form must name
    // them as they are registered, not as whoever filled it in wrote.
    if !same_person_name(&party.name, &a.name) {
        return Err(Error::field(
            Code::Conflict,
            FieldError::new(format!("parties[{index}].name"), "not_the_verified_name"),
        )
        .detail(
            "表中该人员姓名与其实名认证姓名不一致，请申请人更正后再签名",
            "The form names this person differently from their verified identity; the applicant must correct it",
        ));
    }
    let mut incomplete = rec.form.completeness();
    incomplete.extend(rec.kind_problems());
    if !incomplete.is_empty() {
        return Err(Error::new(Code::FormIncomplete).with_errors(incomplete));
    }
    if rec.has_signed(a.id_number.as_str()) {
        return Ok(rec);
    }
    let signature = store::applications::insert_signature(
        &tx,
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
        &tx,
        now,
        &actor,
        "application.signed",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "digest": rec.row.form_digest, "signer": resident_id::mask(a.id_number.as_str()) }),
    )
    .await?;
    tx.commit().await?;
    let mut rec = rec;
    rec.signatures.push(signature);
    Ok(rec)
}

/// The applicant's commitment not to trade in licensed items before the
/// permits are granted (dual notification), bound to the current version.
pub async fn acknowledge_notice(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&tx, a, id).await?;
    transition(&rec, Event::Edit)?;
    if rec.notice_acknowledged() {
        return Ok(rec);
    }
    let changes = entities::application::ActiveModel {
        notice_acknowledged_version: Set(Some(rec.row.version)),
        notice_acknowledged_at: Set(Some(now)),
        ..Default::default()
    };
    if !store::applications::update_if(&tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version));
    }
    let actor = Principal::Applicant(a.clone()).actor();
    let permits: Vec<&str> = rec.form.scope.iter().filter_map(|s| s.permit).collect();
    audit::record(
        &tx,
        now,
        &actor,
        "notice.acknowledged",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "permits": permits, "channel": a.channel_id }),
    )
    .await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

/// Submits for review (and approves at once where the automatic rules
/// allow) and answers with the application as `render` writes it. With an
/// `Idempotency-Key`, that answer is remembered in the same transaction and
/// any repeat gets it back.
#[tracing::instrument(skip_all, fields(application = %id))]
pub async fn submit(
    state: &AppState,
    a: &Applicant,
    id: Uuid,
    idem: Option<&Idem>,
    render: impl Fn(&ApplicationRecord) -> String,
) -> Result<String> {
    let attempt = submit_once(state, a, id, idem, &render).await;
    match (attempt, idem) {
        // The key may have been used already (an earlier or concurrent
        // success): answer with that result, or refuse a different request
        // under the same key, before reporting this attempt's failure.
        (Err(e), Some(idem)) => match idem.lookup(state.db.conn()).await {
            Ok(Some(replay)) => Ok(replay.body),
            Err(reused) if reused.code == Code::IdempotencyKeyReused => Err(reused),
            _ => Err(e),
        },
        (r, _) => r,
    }
}

/// Roles a restricted person may not hold (Regulation art. 12 and the joint
/// punishment rules): representative, operator and investor positions.
const RESTRICTED_ROLES: [Role; 6] = [
    Role::LegalRepresentative,
    Role::Operator,
    Role::Investor,
    Role::Shareholder,
    Role::Chair,
    Role::ExecutiveDirector,
];

/// Parties barred by a credit restriction, as field errors; `found` holds
/// the restrictions in force on any of the form's parties.
fn restricted_parties(form: &Form, found: &[store::restrictions::Row]) -> Vec<FieldError> {
    let concerned =
        form.parties.iter().enumerate().filter(|(_, p)| p.roles.iter().any(|r| RESTRICTED_ROLES.contains(r)));
    concerned
        .into_iter()
        .filter_map(|(i, p)| {
            found.iter().find(|r| r.subject_key == p.id_number.as_str()).map(|r| {
                FieldError::new(format!("parties[{i}]"), "party_restricted")
                    .with("name", p.name.clone())
                    .with("source", r.source.clone())
                    .with("reason", r.reason.clone())
            })
        })
        .collect()
}

/// Why an enterprise may not use simplified deregistration (Rules art. 48).
async fn simplified_exclusions(db: &impl ConnectionTrait, uscc: &str, now: DateTime<Utc>) -> Result<Vec<FieldError>> {
    let mut out = Vec::new();
    if let Some(e) = store::enterprises::find_by_uscc(db, uscc).await?
        && e.abnormal
    {
        out.push(FieldError::new("deregistration.mode", "simplified_excluded").with("reason", "abnormal_operations"));
    }
    if !store::restrictions::in_force(db, &[uscc.to_string()], licence::date_in_china(now)).await?.is_empty() {
        out.push(
            FieldError::new("deregistration.mode", "simplified_excluded").with("reason", "serious_violation_list"),
        );
    }
    Ok(out)
}

async fn submit_once(
    state: &AppState,
    a: &Applicant,
    id: Uuid,
    idem: Option<&Idem>,
    render: &impl Fn(&ApplicationRecord) -> String,
) -> Result<String> {
    // A repeated key is not looked up first: a repeat finds the application
    // already submitted (invalid_state) or the key taken (unique violation),
    // and `submit` then answers with the remembered response.
    let now = state.now();
    let tx = state.db.write().await?;
    let (rec, restrictions) = match ApplicationRecord::load_with_restrictions(&tx, id, now).await? {
        Some((rec, restrictions)) => (own(Some(rec), a)?, restrictions),
        None => return Err(Error::not_found()),
    };
    let next = transition(&rec, Event::Submit)?;

    let outstanding = rec.outstanding();
    if !outstanding.is_empty() {
        return Err(Error::new(Code::SubmissionIncomplete).with_errors(outstanding));
    }
    let restricted = restricted_parties(&rec.form, &restrictions);
    if !restricted.is_empty() {
        return Err(Error::new(Code::PartyRestricted).with_errors(restricted));
    }
    let actor = Principal::Applicant(a.clone()).actor();
    let simplified = rec.form.deregistration.as_ref().is_some_and(|d| d.mode == DeregistrationMode::Simplified);
    let target = match &rec.row.target_uscc {
        Some(u) => Some(store::enterprises::find_by_uscc(&tx, u).await?.ok_or_else(Error::not_found)?),
        None => None,
    };
    if let Some(t) = &target
        && t.status != "active"
    {
        return Err(Error::field(
            Code::InvalidState,
            FieldError::new("uscc", "enterprise_not_changeable").with("status", t.status.clone()),
        ));
    }
    if simplified {
        let excluded = simplified_exclusions(&tx, rec.row.target_uscc.as_deref().unwrap_or_default(), now).await?;
        if !excluded.is_empty() {
            return Err(Error::new(Code::InvalidState).with_errors(excluded));
        }
    }

    // The name: checked and reserved inside this transaction.
    let name_outcome = if rec.form.kind == Kind::Deregister {
        None
    } else {
        reserve_name(state, &tx, &rec, target.as_ref().map(|t| t.id), now).await?
    };

    let reservation = if rec.form.kind == Kind::Deregister {
        places::Reservation { warnings: vec![] }
    } else {
        places::reserve(&tx, &rec, target.as_ref().map(|t| t.id), state.settings.address_concentration_threshold, now)
            .await?
    };

    let mut due_at = state
        .calendar
        .add_working_days(now, state.settings.review_days(rec.form.kind.as_str(), rec.form.entity_type.as_str()));
    if simplified && let Some(t) = &target {
        let days = if rec.form.entity_type == EntityType::IndividualBusiness {
            state.settings.deregistration_notice_days_individual
        } else {
            state.settings.deregistration_notice_days
        };
        let ends_at = now + Duration::days(days);
        due_at = state.calendar.add_working_days(ends_at, state.settings.review_working_days);
        let notice_id = Uuid::now_v7();
        store::notices::insert(
            &tx,
            entities::deregistration_notice::ActiveModel {
                id: Set(notice_id),
                application_id: Set(id),
                enterprise_id: Set(t.id),
                uscc: Set(t.uscc.clone()),
                name: Set(t.name.clone()),
                entity_type: Set(t.entity_type.clone()),
                authority: Set(t.authority.clone()),
                starts_at: Set(now),
                ends_at: Set(ends_at),
                status: Set("open".into()),
                created_at: Set(now),
            },
        )
        .await?;
        audit::record(
            &tx,
            now,
            &actor,
            "deregistration_notice.published",
            Subject { kind: "enterprise", id: &t.uscc },
            None,
            None,
            json!({ "notice_id": notice_id, "ends_at": ends_at }),
        )
        .await?;
    }

    let changes = entities::application::ActiveModel {
        status: Set(next.as_str().into()),
        submitted_at: Set(Some(now)),
        due_at: Set(Some(due_at)),
        updated_at: Set(now),
        ..Default::default()
    };
    let similar: Vec<String> = name_outcome.iter().flat_map(|o| o.conflicts.iter().map(|c| c.name.clone())).collect();
    audit::record(
        &tx,
        now,
        &actor,
        "application.submitted",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "due_at": due_at, "similar_names": similar, "resubmission": rec.status() == Status::Returned }),
    )
    .await?;

    let mut rec = rec;
    if simplified {
        rec.notice = store::notices::for_application(&tx, id).await?;
    }
    // The submission and what the automatic rules made of it: one update.
    rec.row = review::submit_with_automatic_review(
        state,
        &tx,
        &rec,
        changes,
        name_outcome.as_ref(),
        &reservation.warnings,
        now,
    )
    .await?;

    let body = render(&rec);
    if let Some(idem) = idem {
        idem.remember(&tx, 200, &body, now).await?;
    }
    tx.commit().await?;
    Ok(body)
}

/// Checks the name and reserves it for this application. A change that keeps
/// the enterprise's own name reserves nothing. `None` when there is no name.
async fn reserve_name(
    state: &AppState,
    db: &impl ConnectionTrait,
    rec: &ApplicationRecord,
    enterprise_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<names::Outcome>> {
    let Some(name) = rec.form.name.as_deref() else { return Ok(None) };
    let keeps_own = rec.registered.as_ref().is_some_and(|r| r.name.as_deref() == Some(name));
    let rules = crate::domain::name::check(name, rec.form.entity_type, &rec.form.admin_code);
    if keeps_own {
        // Registered under the rules of its day; not re-examined.
        return Ok(Some(names::Outcome { parts: rules.parts, violations: vec![], conflicts: vec![] }));
    }
    if let Some(parts) = &rules.parts {
        names::lock_trade_name(db, &rec.form.admin_code, &parts.trade_name).await?;
    }
    let exclude = names::Exclude { application_id: Some(rec.row.id), enterprise_id };
    let outcome = names::check(db, name, rec.form.entity_type, &rec.form.admin_code, exclude, now).await?;
    if !outcome.available() {
        return Err(Error::new(Code::NameUnavailable).with_errors(outcome.field_errors("name")));
    }
    if rec.row.submitted_at.is_some() {
        // A resubmission replaces its earlier reservation.
        store::names::release_reservation(db, rec.row.id).await?;
    }
    let parts = outcome.parts.as_ref().expect("available names parse");

    store::names::insert(
        db,
        store::names::NewName {
            authority: rec.form.admin_code.as_str(),
            full_name: &parts.full,
            trade_name: &parts.trade_name,
            industry: parts.industry.as_deref(),
            state: "reserved",
            application_id: Some(rec.row.id),
            enterprise_id: None,
            uscc: None,
            reserved_until: Some(now + Duration::days(state.settings.name_reservation_days)),
            now,
        },
    )
    .await?;
    Ok(Some(outcome))
}

/// Withdraws an application that has not been decided.
pub async fn withdraw(state: &AppState, a: &Applicant, id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = load_own(&tx, a, id).await?;
    let next = transition(&rec, Event::Withdraw)?;
    let changes = entities::application::ActiveModel {
        status: Set(next.as_str().into()),
        updated_at: Set(now),
        decided_at: Set(Some(now)),
        ..Default::default()
    };
    if !store::applications::update_if(&tx, id, rec.row.version, &rec.row.status, changes).await? {
        return Err(precondition_failed(rec.row.version));
    }
    store::names::release_reservation(&tx, id).await?;
    store::places::release_reservations(&tx, id, now).await?;
    if let Some(n) = &rec.notice {
        store::notices::set_status(&tx, n.id, "open", "closed").await?;
    }
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &tx,
        now,
        &actor,
        "application.withdrawn",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "from": rec.row.status }),
    )
    .await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

/// Names as a channel and a form may write them: full-width letters,
/// spaces and the middle dots of minority and foreign names aside.
fn same_person_name(form: &str, verified: &str) -> bool {
    let key = |s: &str| -> String {
        crate::domain::text::to_half_width(s)
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '.' | '・'))
            .collect()
    };
    key(form) == key(verified)
}
