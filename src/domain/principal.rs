//! Who is calling, once authenticated, and what each caller may see.
use uuid::Uuid;

use super::{admin_code::AdminCode, resident_id::ResidentId};

/// A person signed in through a mobile channel, identity vouched for by it.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub session_id: Uuid,
    pub id_number: ResidentId,
    pub name: String,
    pub phone: Option<String>,
    pub channel_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRole {
    /// Decides applications of one registration authority.
    Reviewer {
        authority: AdminCode,
    },
    /// A licensing department officer.
    Department {
        code: String,
    },
    /// An e-commerce platform verifying its sellers.
    Platform {
        id: String,
    },
    /// An address host (e-commerce park, incubator) seeing its occupants.
    Host {
        id: Uuid,
    },
    Admin,
}

impl StaffRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            StaffRole::Reviewer { .. } => "reviewer",
            StaffRole::Department { .. } => "department",
            StaffRole::Platform { .. } => "platform",
            StaffRole::Host { .. } => "host",
            StaffRole::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub key_id: Uuid,
    pub name: String,
    pub role: StaffRole,
}

#[derive(Debug, Clone)]
pub enum Principal {
    Applicant(Applicant),
    Staff(Staff),
}

/// How an action is attributed in the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub role: &'static str,
    pub id: String,
    pub channel: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { role: "system", id: "greenchannel".into(), channel: None }
    }

    pub fn public(client: &str) -> Self {
        Actor { role: "public", id: client.into(), channel: None }
    }
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Applicant(a) => {
                Actor { role: "applicant", id: a.id_number.to_string(), channel: Some(a.channel_id.clone()) }
            }
            Principal::Staff(s) => Actor { role: s.role.as_str(), id: s.key_id.to_string(), channel: None },
        }
    }

    /// Stable key for per-caller records (idempotency, rate limits).
    pub fn key(&self) -> String {
        match self {
            Principal::Applicant(a) => format!("person:{}", a.id_number),
            Principal::Staff(s) => format!("key:{}", s.key_id),
        }
    }

    pub fn applicant(&self) -> Option<&Applicant> {
        match self {
            Principal::Applicant(a) => Some(a),
            Principal::Staff(_) => None,
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Principal::Staff(s) => Some(s),
            Principal::Applicant(_) => None,
        }
    }

    pub fn reviewer_authority(&self) -> Option<&AdminCode> {
        match self {
            Principal::Staff(Staff { role: StaffRole::Reviewer { authority }, .. }) => Some(authority),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Staff(Staff { role: StaffRole::Admin, .. }))
    }
}
