//! The name check: the pure rules of `domain::name`, then conflicts with
//! names registered or reserved at the same registration authority.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    domain::{
        FieldError,
        admin_code::AdminCode,
        entity_type::EntityType,
        name::{self, NameParts, Violation},
    },
    error::Result,
    store,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// The same full name.
    Identical,
    /// The same trade name in the same industry (or one without industry).
    SameTradeName,
    /// Same trade name, synonymous industry wording: allowed with the
    /// applicant's commitment (art. 16), reviewers are told.
    Similar,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Identical => "identical",
            ConflictKind::SameTradeName => "same_trade_name",
            ConflictKind::Similar => "similar",
        }
    }

    pub fn blocks(self) -> bool {
        self != ConflictKind::Similar
    }
}

#[derive(Debug, Clone)]
pub struct Conflict {
    pub name: String,
    pub uscc: Option<String>,
    pub kind: ConflictKind,
    pub state: String,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub parts: Option<NameParts>,
    pub violations: Vec<Violation>,
    pub conflicts: Vec<Conflict>,
}

impl Outcome {
    pub fn available(&self) -> bool {
        self.violations.is_empty() && !self.conflicts.iter().any(|c| c.kind.blocks())
    }

    /// The refusal as field errors on `field`.
    pub fn field_errors(&self, field: &str) -> Vec<FieldError> {
        let mut v: Vec<FieldError> = self
            .violations
            .iter()
            .map(|x| {
                let mut e = FieldError::new(field, "name_rule").with("rule", x.code).with("basis", x.rule);
                if let Some(d) = &x.detail {
                    e = e.with("words", d.clone());
                }
                e
            })
            .collect();
        v.extend(self.conflicts.iter().filter(|c| c.kind.blocks()).map(|c| {
            FieldError::new(field, "name_conflict").with("conflict", c.name.clone()).with("kind", c.kind.as_str())
        }));
        v
    }
}

/// Names an application or enterprise may keep clashing with itself: its own
/// reservation on resubmission, its own registered name on a change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exclude {
    pub application_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
}

pub async fn check(
    db: &impl ConnectionTrait,
    raw: &str,
    entity_type: EntityType,
    authority: &AdminCode,
    exclude: Exclude,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let rules = name::check(raw, entity_type, authority);
    let Some(parts) = rules.parts else {
        return Ok(Outcome { parts: None, violations: rules.violations, conflicts: vec![] });
    };
    let records = store::names::blocking(
        db,
        authority.as_str(),
        &parts.full,
        std::slice::from_ref(&parts.trade_name),
        &parts.comparable_industries(),
        now,
    )
    .await?;
    let mut conflicts = Vec::new();
    for r in records {
        if exclude.application_id.is_some() && r.application_id == exclude.application_id {
            continue;
        }
        if exclude.enterprise_id.is_some() && r.enterprise_id == exclude.enterprise_id {
            continue;
        }
        let kind = if r.full_name == parts.full {
            ConflictKind::Identical
        } else if r.trade_name == parts.trade_name && (r.industry.is_none() || r.industry == parts.industry) {
            ConflictKind::SameTradeName
        } else if r.trade_name == parts.trade_name
            && parts
                .industry_group()
                .is_some_and(|g| !g.is_empty() && r.industry.as_deref().map(name::industry_group) == Some(g))
        {
            ConflictKind::Similar
        } else {
            continue;
        };
        conflicts.push(Conflict { name: r.full_name, uscc: r.uscc, kind, state: r.state });
    }
    Ok(Outcome { parts: Some(parts), violations: vec![], conflicts })
}

/// Serialises reservations of one trade name at one authority for the rest
/// of the transaction (PostgreSQL; SQLite has a single writer already), so
/// two submissions cannot both find the name free.
pub async fn lock_trade_name(db: &impl ConnectionTrait, authority: &AdminCode, trade_name: &str) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let digest = Sha256::digest(format!("{authority}:{trade_name}").as_bytes());
        let key = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
