//! The registration authority's side: the review queue, one-step decisions
//! (approve, reject, return for correction), and automatic approval.
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    issuance, names,
    places::Warning,
    registration::ApplicationRecord,
};
use crate::{
    domain::{
        FieldError,
        application::{Event, Status},
        auto_approval::{self, Facts, Policy},
        entity_type::EntityType,
        form::Kind,
        principal::{Actor, Principal},
    },
    error::{Code, Error, Result},
    state::AppState,
    store,
    store::{WriteTx, applications::Row as ApplicationRow},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldComment {
    pub field: String,
    pub comment: String,
}

pub struct QueueQuery {
    pub status: Status,
    pub overdue: Option<bool>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

pub async fn queue(
    state: &AppState,
    principal: &Principal,
    q: QueueQuery,
) -> Result<(Vec<ApplicationRecord>, Option<(DateTime<Utc>, Uuid)>)> {
    let authority = principal.reviewer_authority().ok_or_else(|| Error::new(Code::Forbidden))?;
    if q.status == Status::Draft {
        return Ok((vec![], None));
    }
    let now = state.now();
    let rows = store::applications::queue(
        state.db.conn(),
        store::applications::QueueFilter {
            authority: authority.as_str(),
            status: q.status.as_str(),
            overdue_at: (q.overdue == Some(true)).then_some(now),
            after: q.after,
            limit: q.limit + 1,
        },
    )
    .await?;
    let more = rows.len() as u64 > q.limit;
    let mut out = Vec::new();
    for row in rows.into_iter().take(q.limit as usize) {
        // overdue=false: only those still within their time limit.
        if q.overdue == Some(false) && row.due_at.is_some_and(|d| d < now) {
            continue;
        }
        if let Some(rec) = ApplicationRecord::load(state.db.conn(), row.id).await? {
            out.push(rec);
        }
    }
    let next = if more { out.last().and_then(|r| r.row.submitted_at.map(|s| (s, r.row.id))) } else { None };
    Ok((out, next))
}

/// A reviewer decides a submitted application of their authority.
#[tracing::instrument(skip_all, fields(application = %id, ?decision))]
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    decision: Decision,
    reason: Option<String>,
    comments: Vec<FieldComment>,
) -> Result<ApplicationRecord> {
    let authority = principal.reviewer_authority().ok_or_else(|| Error::new(Code::Forbidden))?;
    let reviewer = principal.staff().expect("reviewers are staff");
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = ApplicationRecord::load_locked(&tx, id).await?.ok_or_else(Error::not_found)?;
    if rec.row.authority != authority.as_str() || rec.row.submitted_at.is_none() {
        return Err(Error::not_found());
    }
    let event = match decision {
        Decision::Approve => Event::Approve,
        Decision::Reject => Event::Reject,
        Decision::Return => Event::Return,
    };
    let next = rec.status().apply(event).map_err(|t| {
        Error::new(Code::InvalidState).detail(
            format!("申请当前状态为“{}”，无需决定", t.from),
            format!("The application is {}; it cannot be decided", t.from),
        )
    })?;
    if decision == Decision::Approve
        && let Some(n) = &rec.notice
    {
        if n.status == "objected" {
            return Err(Error::new(Code::InvalidState)
                .detail("公告期内有异议，不能简易注销", "An objection was lodged during the notice period"));
        }
        if n.ends_at > now {
            return Err(Error::new(Code::InvalidState).detail(
                format!("简易注销公告期至 {} 结束，届满后方可核准", n.ends_at.to_rfc3339()),
                format!("The public notice runs until {}; it can be approved after that", n.ends_at.to_rfc3339()),
            ));
        }
    }
    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    match decision {
        Decision::Reject if reason.is_none() => {
            return Err(Error::field(Code::ValidationFailed, FieldError::new("reason", "required")));
        }
        Decision::Return if reason.is_none() && comments.is_empty() => {
            return Err(Error::field(Code::ValidationFailed, FieldError::new("field_comments", "required")));
        }
        _ => {}
    }
    let actor = principal.actor();
    let row = apply_decision(
        state,
        &tx,
        &rec,
        next,
        &actor,
        Some(reviewer.key_id),
        reason,
        &comments,
        now,
        Default::default(),
    )
    .await?;
    tx.commit().await?;
    let mut rec = rec;
    rec.row = row;
    Ok(rec)
}

#[allow(clippy::too_many_arguments)]
async fn apply_decision(
    state: &AppState,
    db: &WriteTx,
    rec: &ApplicationRecord,
    next: Status,
    actor: &Actor,
    reviewer_key: Option<Uuid>,
    reason: Option<String>,
    comments: &[FieldComment],
    now: DateTime<Utc>,
    // What else the same update writes (a submission decided at once).
    mut changes: entities::application::ActiveModel,
) -> Result<ApplicationRow> {
    let id = rec.row.id;
    changes.status = Set(next.as_str().into());
    changes.updated_at = Set(now);
    changes.decision_reason = Set(reason.clone());
    changes.field_comments = Set((!comments.is_empty()).then(|| serde_json::to_string(comments).unwrap_or_default()));
    let mut issued = None;
    match next {
        Status::Approved => {
            let i = match rec.form.kind {
                Kind::Establish => issuance::establish(state, db, rec, actor, now).await?,
                Kind::Change => issuance::change(state, db, rec, actor, now).await?,
                Kind::Deregister => {
                    let i = issuance::deregister(state, db, rec, actor, now).await?;
                    if let Some(n) = &rec.notice {
                        store::notices::set_status(db, n.id, "open", "closed").await?;
                    }
                    i
                }
            };

            changes.uscc = Set(Some(i.uscc.clone()));
            changes.enterprise_id = Set(Some(i.enterprise_id));
            changes.decided_at = Set(Some(now));
            changes.decided_by = Set(Some(if actor.role == "system" { "auto" } else { "reviewer" }.into()));
            changes.reviewer_key_id = Set(reviewer_key);
            issued = Some(i);
        }
        Status::Rejected => {
            store::names::release_reservation(db, id).await?;
            store::places::release_reservations(db, id, now).await?;
            if let Some(n) = &rec.notice {
                store::notices::set_status(db, n.id, "open", "closed").await?;
            }
            changes.decided_at = Set(Some(now));
            changes.decided_by = Set(Some("reviewer".into()));
            changes.reviewer_key_id = Set(reviewer_key);
        }
        // Returned: the name stays reserved while the applicant corrects; a
        // simplified deregistration's notice ends and starts anew on resubmission.
        _ => {
            if let Some(n) = &rec.notice {
                store::notices::set_status(db, n.id, "open", "closed").await?;
            }
            changes.reviewer_key_id = Set(reviewer_key);
        }
    }
    // The caller read the application with its row lock held.
    let row = store::applications::update_locked(db, &rec.row, changes).await?;

    let action = match next {
        Status::Approved => "application.approved",
        Status::Rejected => "application.rejected",
        _ => "application.returned",
    };
    audit::record(
        db,
        now,
        actor,
        action,
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(rec.row.version),
        json!({ "reason": reason, "field_comments": comments, "uscc": issued.as_ref().map(|i| i.uscc.clone()) }),
    )
    .await?;
    Ok(row)
}

/// The configured automatic-approval policy.
pub fn policy(state: &AppState) -> Policy {
    Policy {
        enabled: state.settings.auto_approval,
        entity_types: state.settings.auto_approval_entity_types.iter().filter_map(|s| EntityType::parse(s)).collect(),
    }
}

/// Evaluates the automatic rules on an application being submitted, and
/// writes the submission (`submission`: status, dates) with their outcome in
/// one update, approving when all pass. `rec` is the application as read
/// with its row lock ([`ApplicationRecord::load_locked`] or the
/// submission's read), so it cannot have moved meanwhile.
pub async fn submit_with_automatic_review(
    state: &AppState,
    db: &WriteTx,
    rec: &ApplicationRecord,
    mut submission: entities::application::ActiveModel,
    name: Option<&names::Outcome>,
    warnings: &[Warning],
    now: DateTime<Utc>,
) -> Result<ApplicationRow> {
    let facts = Facts {
        name_clean: name.is_none_or(|o| o.available() && o.conflicts.is_empty()),
        restricted_parties: 0,
        address_concentration: warnings.iter().any(|w| w.code == "address_concentration"),
    };
    let outcome = auto_approval::evaluate(&policy(state), &rec.form, &facts);
    // Similar names and crowded addresses are shown to the reviewer.
    let mut shown: Vec<Warning> = warnings.to_vec();
    for c in name.iter().flat_map(|o| o.conflicts.iter()).filter(|c| !c.kind.blocks()) {
        shown.push(Warning { code: "similar_name".into(), field: "name".into(), detail: c.name.clone() });
    }
    let mut recorded = serde_json::to_value(&outcome).unwrap_or_default();
    recorded["warnings"] = serde_json::to_value(&shown).unwrap_or_default();
    let recorded = recorded.to_string();
    submission.auto_review = Set(Some(recorded));
    if !outcome.approved {
        return Ok(store::applications::update_locked(db, &rec.row, submission).await?);
    }
    apply_decision(state, db, rec, Status::Approved, &Actor::system(), None, None, &[], now, submission).await
}
