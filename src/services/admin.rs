//! Administrative actions on the registers: credit restrictions, abnormal
//! operation flags, revocation.
use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Subject};
use crate::{
    domain::{FieldError, principal::Actor, resident_id::ResidentId, uscc::Uscc},
    error::{Code, Error, Result},
    state::AppState,
    store,
};

#[derive(Debug, Clone)]
pub enum RestrictedSubject {
    Person(ResidentId),
    Enterprise(Uscc),
}

#[derive(Debug, Clone)]
pub struct NewRestriction {
    pub subject: RestrictedSubject,
    pub name: Option<String>,
    pub reason: String,
    pub source: String,
    pub listed_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

pub async fn add_restriction(state: &AppState, actor: &Actor, r: NewRestriction) -> Result<Uuid> {
    add_restrictions(state, actor, vec![r]).await.map(|ids| ids[0])
}

/// Adds restrictions in one transaction (a CSV import is all or nothing).
pub async fn add_restrictions(state: &AppState, actor: &Actor, rs: Vec<NewRestriction>) -> Result<Vec<Uuid>> {
    let now = state.now();
    let tx = state.db.write().await?;
    let mut ids = Vec::with_capacity(rs.len());
    for r in rs {
        let id = Uuid::now_v7();
        let (kind, key) = match &r.subject {
            RestrictedSubject::Person(p) => ("person", p.to_string()),
            RestrictedSubject::Enterprise(u) => ("enterprise", u.to_string()),
        };
        store::restrictions::insert(
            &tx,
            entities::restriction::ActiveModel {
                id: Set(id),
                subject_kind: Set(kind.into()),
                subject_key: Set(key.clone()),
                subject_name: Set(r.name.clone()),
                reason: Set(r.reason.clone()),
                source: Set(r.source.clone()),
                listed_on: Set(r.listed_on),
                expires_on: Set(r.expires_on),
                created_at: Set(now),
                lifted_at: Set(None),
            },
        )
        .await?;
        let shown = if kind == "person" { crate::domain::resident_id::mask(&key) } else { key };
        audit::record(
            &tx,
            now,
            actor,
            "restriction.added",
            Subject { kind: "restriction", id: &id.to_string() },
            None,
            None,
            json!({ "subject_kind": kind, "subject": shown, "source": r.source, "listed_on": r.listed_on, "expires_on": r.expires_on }),
        )
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}

pub async fn lift_restriction(state: &AppState, actor: &Actor, id: Uuid) -> Result<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    if !store::restrictions::lift(&tx, id, now).await? {
        return Err(Error::not_found());
    }
    audit::record(
        &tx,
        now,
        actor,
        "restriction.lifted",
        Subject { kind: "restriction", id: &id.to_string() },
        None,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Flags (or clears) abnormal operation (经营异常名录).
pub async fn set_abnormal(
    state: &AppState,
    actor: &Actor,
    uscc: &Uscc,
    abnormal: bool,
    reason: Option<String>,
) -> Result<store::enterprises::Row> {
    if abnormal && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("reason", "required")));
    }
    let now = state.now();
    let tx = state.db.write().await?;
    let ent = store::enterprises::lock_by_uscc(&tx, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    let mut am: entities::enterprise::ActiveModel = ent.clone().into();
    am.abnormal = Set(abnormal);
    am.abnormal_reason = Set(if abnormal { reason.clone() } else { None });
    am.abnormal_since = Set(if abnormal { Some(ent.abnormal_since.unwrap_or(now)) } else { None });
    am.updated_at = Set(now);
    store::enterprises::update(&tx, am).await?;
    super::events::record(
        &tx,
        uscc.as_str(),
        super::events::ABNORMAL_CHANGED,
        json!({ "abnormal": abnormal, "reason": reason }),
        now,
    )
    .await?;
    let action = if abnormal { "enterprise.abnormal_flagged" } else { "enterprise.abnormal_cleared" };
    audit::record(
        &tx,
        now,
        actor,
        action,
        Subject { kind: "enterprise", id: uscc.as_str() },
        None,
        None,
        json!({ "reason": reason }),
    )
    .await?;
    let row = store::enterprises::find_by_uscc(&tx, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(row)
}

/// Revokes the business licence (吊销): the enterprise can no longer trade or change.
pub async fn revoke(state: &AppState, actor: &Actor, uscc: &Uscc, reason: String) -> Result<store::enterprises::Row> {
    if reason.trim().is_empty() {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("reason", "required")));
    }
    let now = state.now();
    let tx = state.db.write().await?;
    let ent = store::enterprises::lock_by_uscc(&tx, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    if ent.status != "active" {
        return Err(Error::new(Code::InvalidState)
            .detail(format!("当前状态为 {}", ent.status), format!("The enterprise is {}", ent.status)));
    }
    let mut am: entities::enterprise::ActiveModel = ent.clone().into();
    am.status = Set("revoked".into());
    am.revoked_at = Set(Some(now));
    am.revocation_reason = Set(Some(reason.clone()));
    am.updated_at = Set(now);
    store::enterprises::update(&tx, am).await?;
    super::events::record(
        &tx,
        uscc.as_str(),
        super::events::STATUS_CHANGED,
        json!({ "status": "revoked", "reason": reason }),
        now,
    )
    .await?;
    audit::record(
        &tx,
        now,
        actor,
        "enterprise.revoked",
        Subject { kind: "enterprise", id: uscc.as_str() },
        None,
        None,
        json!({ "reason": reason }),
    )
    .await?;
    let row = store::enterprises::find_by_uscc(&tx, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(row)
}

/// Parses restriction CSV: `kind,subject,name,reason,source,listed_on,expires_on`
/// with a header row; `kind` is `person` or `enterprise`. Every bad line is
/// reported, with its line number, before anything is written.
pub fn parse_restrictions_csv(text: &str) -> std::result::Result<Vec<NewRestriction>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < 6 {
            errors.push(
                FieldError::new(format!("line {n}"), "invalid_format")
                    .with("expected", "kind,subject,name,reason,source,listed_on[,expires_on]"),
            );
            continue;
        }
        let subject = match f[0] {
            "person" => ResidentId::parse(f[1]).map(RestrictedSubject::Person),
            "enterprise" => Uscc::parse(f[1]).map(RestrictedSubject::Enterprise),
            _ => Err(FieldError::new("", "invalid_value").with("detail", "person or enterprise")),
        };
        let listed_on = NaiveDate::parse_from_str(f[5], "%Y-%m-%d");
        let expires_on =
            f.get(6).filter(|s| !s.is_empty()).map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d")).transpose();
        match (subject, listed_on, expires_on) {
            (Ok(subject), Ok(listed_on), Ok(expires_on)) if !f[3].is_empty() && !f[4].is_empty() => {
                out.push(NewRestriction {
                    subject,
                    name: (!f[2].is_empty()).then(|| f[2].to_string()),
                    reason: f[3].to_string(),
                    source: f[4].to_string(),
                    listed_on,
                    expires_on,
                })
            }
            (Err(e), _, _) => errors.push(e.under(&format!("line {n}.subject"))),
            (_, Err(_), _) | (_, _, Err(_)) => errors
                .push(FieldError::new(format!("line {n}"), "invalid_format").with("expected", "dates as YYYY-MM-DD")),
            _ => errors.push(FieldError::new(format!("line {n}"), "required").with("detail", "reason and source")),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_csv_parses_and_reports_every_bad_line() {
        let ok = "kind,subject,name,reason,source,listed_on,expires_on\nperson,11010519491231002X,张三,失信被执行人,最高人民法院失信名单,2026-01-01,\nenterprise,91330100799655058B,,严重违法失信,市场监管总局,2026-02-01,2029-02-01\n";
        let rs = parse_restrictions_csv(ok).unwrap();
        assert_eq!(rs.len(), 2);
        assert!(matches!(rs[1].subject, RestrictedSubject::Enterprise(_)));
        let bad = "h\nperson,11010519491231002Y,x,r,s,2026-01-01\nnobody,x,x,r,s,2026-01-01\nperson,11010519491231002X,x,r,s,2026-13-01\n";
        let e = parse_restrictions_csv(bad).unwrap_err();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].field, "line 2.subject");
    }
}
