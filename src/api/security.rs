//! Bearer authentication: one scheme, two kinds of secret. Session tokens
//! (`gcs_…`) identify applicants; API keys (`gck_…`) identify staff and
//! integrators. Role checks live here so handlers read as one line.
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use crate::{
    domain::principal::{Applicant, Principal, StaffRole},
    error::{Code, Error},
    services,
    state::AppState,
};

/// `Authorization: Bearer <session token or API key>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check")]
pub struct BearerAuth(pub Principal);

async fn check(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<AppState>().ok_or_else(|| Error::internal(anyhow::anyhow!("state missing")))?;
    Ok(services::auth::authenticate(state, &bearer.token).await?)
}

fn forbidden() -> Error {
    Error::new(Code::Forbidden)
}

impl BearerAuth {
    pub fn applicant(&self) -> Result<&Applicant, Error> {
        self.0.applicant().ok_or_else(forbidden)
    }

    pub fn reviewer(&self) -> Result<&Principal, Error> {
        self.0.reviewer_authority().map(|_| &self.0).ok_or_else(forbidden)
    }

    pub fn admin(&self) -> Result<&Principal, Error> {
        if self.0.is_admin() { Ok(&self.0) } else { Err(forbidden()) }
    }

    pub fn department(&self) -> Result<&str, Error> {
        match &self.0 {
            Principal::Staff(s) => match &s.role {
                StaffRole::Department { code } => Ok(code),
                _ => Err(forbidden()),
            },
            _ => Err(forbidden()),
        }
    }

    pub fn platform(&self) -> Result<&str, Error> {
        match &self.0 {
            Principal::Staff(s) => match &s.role {
                StaffRole::Platform { id } => Ok(id),
                _ => Err(forbidden()),
            },
            _ => Err(forbidden()),
        }
    }
}
