//! Address hosts (一址多照): e-commerce parks and incubators that host many
//! businesses at one address, and who occupies an address.
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    places,
};
use crate::{
    domain::{
        entity_type::EntityType,
        form::Address,
        principal::{Actor, Principal, StaffRole},
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{
        self,
        places::{AddressRow, HostRow, OccupancyRow},
    },
};

pub struct NewHost {
    pub name: String,
    pub address: Address,
    pub capacity: i32,
    pub entity_types: Vec<EntityType>,
    pub industries: Vec<String>,
    pub contact: Option<String>,
}

pub async fn create(state: &AppState, actor: &Actor, h: NewHost) -> Result<(HostRow, AddressRow)> {
    let now = state.now();
    let tx = state.db.write().await?;
    let addr = places::address_of(&tx, &h.address, now).await?;
    let id = Uuid::now_v7();
    let types: Vec<&str> = h.entity_types.iter().map(|t| t.as_str()).collect();
    store::places::insert_host(
        &tx,
        entities::address_host::ActiveModel {
            id: Set(id),
            name: Set(h.name.clone()),
            address_id: Set(addr.id),
            capacity: Set(h.capacity),
            entity_types: Set(serde_json::to_string(&types).unwrap_or_default()),
            industries: Set(serde_json::to_string(&h.industries).unwrap_or_default()),
            status: Set("active".into()),
            contact: Set(h.contact.clone()),
            created_at: Set(now),
            closed_at: Set(None),
        },
    )
    .await?;
    audit::record(
        &tx,
        now,
        actor,
        "address_host.created",
        Subject { kind: "address_host", id: &id.to_string() },
        None,
        None,
        json!({ "name": h.name, "address_id": addr.id, "capacity": h.capacity }),
    )
    .await?;
    let host = store::places::host(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok((host, addr))
}

pub struct HostRecord {
    pub host: HostRow,
    pub address: AddressRow,
    pub taken: u64,
}

/// A host as an admin, a reviewer of its county, or the host itself sees it.
pub async fn get(state: &AppState, p: &Principal, id: Uuid) -> Result<HostRecord> {
    let host = store::places::host(state.db.conn(), id).await?.ok_or_else(Error::not_found)?;
    let address = store::places::address(state.db.conn(), host.address_id).await?.ok_or_else(Error::not_found)?;
    let allowed = match p {
        Principal::Staff(s) => match &s.role {
            StaffRole::Admin => true,
            StaffRole::Host { id: h } => *h == id,
            StaffRole::Reviewer { authority } => authority.as_str() == address.county_code,
            _ => false,
        },
        Principal::Applicant(_) => false,
    };
    if !allowed {
        return Err(Error::not_found());
    }
    let taken = store::places::host_places_taken(state.db.conn(), id).await?;
    Ok(HostRecord { host, address, taken })
}

/// Closes a host: no new places; its occupants are listed for follow-up
/// (they must move their registered address).
pub async fn close(state: &AppState, actor: &Actor, id: Uuid) -> Result<Vec<OccupancyRow>> {
    let now = state.now();
    let tx = state.db.write().await?;
    if !store::places::close_host(&tx, id, now).await? {
        return Err(if store::places::host(&tx, id).await?.is_some() {
            Error::new(Code::InvalidState).detail("该托管地址已关闭", "The host is already closed")
        } else {
            Error::not_found()
        });
    }
    let occupants = store::places::occupants(&tx, None, Some(id), &["reserved", "active"], None, 100_000).await?;
    audit::record(
        &tx,
        now,
        actor,
        "address_host.closed",
        Subject { kind: "address_host", id: &id.to_string() },
        None,
        None,
        json!({ "occupants_for_follow_up": occupants.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(occupants)
}

/// One occupant, with the enterprise (or pending application) holding it.
pub struct Occupant {
    pub row: OccupancyRow,
    pub address: Option<AddressRow>,
    pub enterprise: Option<store::enterprises::Row>,
}

pub enum Scope {
    Address(Uuid),
    Host(Uuid),
}

/// Occupants of an address or host, for staff in scope: admins, reviewers
/// of the county, and the host for its own places.
pub async fn occupants(
    state: &AppState,
    p: &Principal,
    scope: Scope,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<Occupant>, Option<Uuid>)> {
    let db = state.db.conn();
    let (county, host_id, address_id) = match scope {
        Scope::Address(a) => {
            let addr = store::places::address(db, a).await?.ok_or_else(Error::not_found)?;
            (addr.county_code, None, Some(a))
        }
        Scope::Host(h) => {
            let host = store::places::host(db, h).await?.ok_or_else(Error::not_found)?;
            let addr = store::places::address(db, host.address_id).await?.ok_or_else(Error::not_found)?;
            (addr.county_code, Some(h), None)
        }
    };
    let allowed = match p {
        Principal::Staff(s) => match &s.role {
            StaffRole::Admin => true,
            StaffRole::Reviewer { authority } => authority.as_str() == county,
            StaffRole::Host { id } => host_id == Some(*id),
            _ => false,
        },
        Principal::Applicant(_) => false,
    };
    if !allowed {
        return Err(Error::not_found());
    }
    let rows = store::places::occupants(db, address_id, host_id, &["reserved", "active"], after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<OccupancyRow> = rows.into_iter().take(limit as usize).collect();
    let next = if more { rows.last().map(|r| r.id) } else { None };
    let mut out = Vec::with_capacity(rows.len());
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.enterprise_id).collect();
    let enterprises = store::enterprises::by_ids(db, &ids).await?;
    for row in rows {
        let enterprise = row.enterprise_id.and_then(|id| enterprises.iter().find(|e| e.id == id).cloned());
        let address = if host_id.is_some() { store::places::address(db, row.address_id).await? } else { None };
        out.push(Occupant { row, address, enterprise });
    }
    Ok((out, next))
}

/// The host confirms that an occupant really is at its premises.
pub async fn confirm(state: &AppState, p: &Principal, occupancy_id: Uuid) -> Result<DateTime<Utc>> {
    let Principal::Staff(s) = p else { return Err(Error::new(Code::Forbidden)) };
    let StaffRole::Host { id: host_id } = s.role else { return Err(Error::new(Code::Forbidden)) };
    let now = state.now();
    let tx = state.db.write().await?;
    if !store::places::confirm_occupancy(&tx, host_id, occupancy_id, now).await? {
        return Err(Error::not_found());
    }
    audit::record(
        &tx,
        now,
        &p.actor(),
        "occupancy.confirmed",
        Subject { kind: "address_host", id: &host_id.to_string() },
        None,
        None,
        json!({ "occupancy_id": occupancy_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}
