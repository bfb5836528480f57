//! Reading registered enterprises, within the caller's scope.
use crate::{
    domain::{
        form::Form,
        licence::LicenceContent,
        principal::{Principal, StaffRole},
        uscc::Uscc,
    },
    error::{Error, Result},
    state::AppState,
    store::{
        self,
        enterprises::{LicenceRow, Row},
    },
};

pub struct EnterpriseRecord {
    pub row: Row,
    pub profile: Form,
    pub licences: Vec<LicenceRow>,
    /// Live premises (registered places, shops, filed extras) with their address.
    pub premises: Vec<(store::places::PremisesRow, Option<store::places::AddressRow>)>,
    /// Dual-notification records: the permit status of each licensed item.
    pub notifications: Vec<store::notifications::Row>,
}

impl EnterpriseRecord {
    pub fn current_licence(&self) -> Option<LicenceContent> {
        self.licences
            .iter()
            .find(|l| l.version == self.row.licence_version)
            .and_then(|l| serde_json::from_str(&l.content).ok())
    }

    /// The owner: who established it, or today's representative.
    pub fn is_owned_by(&self, p: &Principal) -> bool {
        p.applicant().is_some_and(|a| {
            self.row.owner_id_number == a.id_number.as_str()
                || self.profile.representative().is_some_and(|r| r.id_number == a.id_number)
        })
    }
}

/// An enterprise the principal may see (owner, its authority's reviewer,
/// admin); anything else is 404.
pub async fn get(state: &AppState, p: &Principal, uscc: &Uscc) -> Result<EnterpriseRecord> {
    let row = store::enterprises::find_by_uscc(state.db.conn(), uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    let profile: Form = serde_json::from_str(&row.profile)
        .map_err(|e| Error::internal(anyhow::anyhow!("profile {}: {e}", row.uscc)))?;
    let licences = store::enterprises::licences(state.db.conn(), row.id).await?;
    let mut premises = Vec::new();
    for p in store::places::premises_of(state.db.conn(), row.id).await? {
        let addr = match p.address_id {
            Some(a) => store::places::address(state.db.conn(), a).await?,
            None => None,
        };
        premises.push((p, addr));
    }
    let notifications = store::notifications::for_enterprise(state.db.conn(), row.id).await?;
    let rec = EnterpriseRecord { row, profile, licences, premises, notifications };
    let visible = rec.is_owned_by(p)
        || match p {
            Principal::Staff(s) => match &s.role {
                StaffRole::Reviewer { authority } => authority.as_str() == rec.row.authority,
                StaffRole::Admin => true,
                // A department sees the enterprises pushed to it.
                StaffRole::Department { code } => {
                    rec.notifications.iter().any(|n| n.department_code.as_deref() == Some(code))
                }
                StaffRole::Platform { .. } | StaffRole::Host { .. } => false,
            },
            Principal::Applicant(_) => false,
        };
    if visible { Ok(rec) } else { Err(Error::not_found()) }
}
