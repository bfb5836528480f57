//! Addresses and their occupants, address hosts, extra premises.
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    ApiTags,
    body::JsonBody,
    form::{AddressInput, EntityTypeWire, entity_type, text_field},
    security::BearerAuth,
    views::{self, bad_cursor},
};
use crate::{
    domain::{FieldError, admin_code::TownshipCode, form::Address, principal::StaffRole},
    error::{Error, Result},
    services::{
        self,
        hosts::{NewHost, Occupant, Scope},
        premises::Filing,
    },
    state::AppState,
};

/// An address host: an e-commerce park, incubator or cluster-registration host.
#[derive(Debug, Object, Deserialize)]
pub struct HostInput {
    pub name: String,
    pub address: AddressInput,
    /// How many businesses it may host.
    pub capacity: i32,
    /// Entity types it accepts; empty or absent: all.
    #[serde(default)]
    pub entity_types: Option<Vec<EntityTypeWire>>,
    /// Scope-code prefixes it accepts (e.g. "G1", "G20"); empty or absent: all.
    #[serde(default)]
    pub industries: Option<Vec<String>>,
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Object)]
pub struct HostView {
    pub id: Uuid,
    pub name: String,
    pub address_id: Uuid,
    pub address: String,
    pub capacity: i32,
    /// Places reserved or occupied.
    pub taken: u64,
    /// `active` or `closed`.
    pub status: String,
}

#[derive(Debug, Object)]
pub struct OccupantView {
    pub id: Uuid,
    pub address_id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub unit_no: Option<i32>,
    /// `domicile` or `premises`.
    pub role: String,
    /// `reserved` (an application under review) or `active`.
    pub state: String,
    pub residence: bool,
    pub since: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub uscc: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub enterprise_status: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub application_id: Option<Uuid>,
}

impl From<Occupant> for OccupantView {
    fn from(o: Occupant) -> Self {
        OccupantView {
            id: o.row.id,
            address_id: o.row.address_id,
            address: o.address.map(|a| a.detail),
            unit_no: o.row.unit_no,
            role: o.row.role,
            state: o.row.state,
            residence: o.row.residence,
            since: o.row.started_at,
            confirmed_at: o.row.confirmed_at,
            uscc: o.enterprise.as_ref().map(|e| e.uscc.clone()),
            name: o.enterprise.as_ref().and_then(|e| e.name.clone()),
            enterprise_status: o.enterprise.as_ref().map(|e| e.status.clone()),
            application_id: o.row.application_id,
        }
    }
}

#[derive(Debug, Object)]
pub struct OccupantPage {
    pub items: Vec<OccupantView>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct HostClosed {
    pub host_id: Uuid,
    /// Businesses registered at the closed host, to be followed up.
    pub occupants_for_follow_up: Vec<OccupantView>,
}

#[derive(Debug, Object, Deserialize)]
pub struct PremisesFilingInput {
    pub address: AddressInput,
    /// Scope codes carried on at these premises; absent: all registered items.
    #[serde(default)]
    pub activities: Option<Vec<String>>,
}

#[derive(Debug, Object)]
pub struct PremisesFiled {
    pub id: Uuid,
    pub address_id: Uuid,
    pub activities: Vec<String>,
    /// The licence version that now lists the premises.
    pub licence_version: i32,
}

#[derive(Debug, Object)]
pub struct Confirmed {
    pub id: Uuid,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum HostCreated {
    #[oai(status = 201)]
    Created(Json<HostView>),
}

#[derive(ApiResponse)]
enum Filed {
    #[oai(status = 201)]
    Created(Json<PremisesFiled>),
}

#[derive(ApiResponse)]
enum Removed {
    /// Removed; the licence is re-issued without it.
    #[oai(status = 204)]
    NoContent,
}

fn parse_address(a: &AddressInput, field: &str) -> Result<Address> {
    let mut errors = Vec::new();
    let township =
        TownshipCode::parse(&a.township_code).map_err(|e| errors.push(e.under(&format!("{field}.township_code")))).ok();
    let detail = text_field(&a.detail, &format!("{field}.detail"), 120).map_err(|e| errors.push(e)).ok();
    match (township, detail) {
        (Some(t), Some(d)) => {
            Ok(Address { township_code: t, detail: d, host_id: None, residence: a.residence.unwrap_or(false) })
        }
        _ => Err(Error::validation(errors)),
    }
}

fn after(cursor: Option<&str>) -> Result<Option<Uuid>> {
    views::decode_cursor(cursor)?.map(|c| c.parse::<Uuid>().map_err(|_| bad_cursor())).transpose()
}

fn page((items, next): (Vec<Occupant>, Option<Uuid>)) -> OccupantPage {
    OccupantPage {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|n| views::encode_cursor(&n.to_string())),
    }
}

pub struct PlacesApi;

#[OpenApi]
impl PlacesApi {
    /// Who is registered at an address (staff)
    ///
    /// One address, many licences: every enterprise (and pending application)
    /// at this address. Reviewers of its county and admins.
    #[oai(
        path = "/api/v1/addresses/:id/occupants",
        method = "get",
        operation_id = "address_occupants",
        tag = "ApiTags::Enterprises"
    )]
    async fn address_occupants(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<OccupantPage>> {
        let r = services::hosts::occupants(
            &state,
            &auth.0,
            Scope::Address(id.0),
            after(cursor.0.as_deref())?,
            views::limit(limit.0)?,
        )
        .await?;
        Ok(Json(page(r)))
    }

    /// File extra business premises under the licence
    ///
    /// Within the registration authority's jurisdiction only; premises
    /// elsewhere, or for items on the pre-registration approval list, need a
    /// branch registration. The licence is re-issued listing them.
    #[oai(
        path = "/api/v1/enterprises/:uscc/premises",
        method = "post",
        operation_id = "file_premises",
        tag = "ApiTags::Enterprises"
    )]
    async fn file_premises(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
        body: JsonBody<PremisesFilingInput>,
    ) -> Result<Filed> {
        auth.applicant()?;
        let code = super::enterprises::parse_uscc(&uscc.0)?;
        let address = parse_address(&body.0.address, "address")?;
        let (row, version) = services::premises::file(
            &state,
            &auth.0,
            &code,
            Filing { address, activities: body.0.activities.unwrap_or_default() },
        )
        .await?;
        Ok(Filed::Created(Json(PremisesFiled {
            id: row.id,
            address_id: row.address_id.unwrap_or_default(),
            activities: serde_json::from_str(&row.activities).unwrap_or_default(),
            licence_version: version,
        })))
    }

    /// Remove extra business premises
    #[oai(
        path = "/api/v1/enterprises/:uscc/premises/:id",
        method = "delete",
        operation_id = "remove_premises",
        tag = "ApiTags::Enterprises"
    )]
    async fn remove_premises(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
        id: Path<Uuid>,
    ) -> Result<Removed> {
        auth.applicant()?;
        let code = super::enterprises::parse_uscc(&uscc.0)?;
        services::premises::remove(&state, &auth.0, &code, id.0).await?;
        Ok(Removed::NoContent)
    }

    /// Register an address host
    #[oai(
        path = "/api/v1/admin/address-hosts",
        method = "post",
        operation_id = "create_address_host",
        tag = "ApiTags::Admin"
    )]
    async fn create_host(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<HostInput>,
    ) -> Result<HostCreated> {
        let admin = auth.admin()?;
        let h = body.0;
        let mut errors = Vec::new();
        let name = text_field(&h.name, "name", 100).map_err(|e| errors.push(e)).ok();
        let address = parse_address(&h.address, "address").map_err(|e| errors.extend(e.errors)).ok();
        if !(1..=1_000_000).contains(&h.capacity) {
            errors.push(FieldError::new("capacity", "invalid_value").with("detail", "1..=1000000"));
        }
        let (Some(name), Some(address)) = (name, address) else { return Err(Error::validation(errors)) };
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let new = NewHost {
            name,
            address,
            capacity: h.capacity,
            entity_types: h.entity_types.unwrap_or_default().into_iter().map(entity_type).collect(),
            industries: h.industries.unwrap_or_default(),
            contact: h.contact,
        };
        let (host, addr) = services::hosts::create(&state, &admin.actor(), new).await?;
        Ok(HostCreated::Created(Json(HostView {
            id: host.id,
            name: host.name,
            address_id: addr.id,
            address: addr.detail,
            capacity: host.capacity,
            taken: 0,
            status: host.status,
        })))
    }

    /// An address host
    #[oai(
        path = "/api/v1/admin/address-hosts/:id",
        method = "get",
        operation_id = "get_address_host",
        tag = "ApiTags::Admin"
    )]
    async fn get_host(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<HostView>> {
        let r = services::hosts::get(&state, &auth.0, id.0).await?;
        Ok(Json(HostView {
            id: r.host.id,
            name: r.host.name,
            address_id: r.address.id,
            address: r.address.detail,
            capacity: r.host.capacity,
            taken: r.taken,
            status: r.host.status,
        }))
    }

    /// Close an address host
    ///
    /// No new places are given out; the businesses registered there are
    /// listed for follow-up.
    #[oai(
        path = "/api/v1/admin/address-hosts/:id/closure",
        method = "post",
        operation_id = "close_address_host",
        tag = "ApiTags::Admin"
    )]
    async fn close_host(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<HostClosed>> {
        let admin = auth.admin()?;
        services::hosts::close(&state, &admin.actor(), id.0).await?;
        let (items, _) = services::hosts::occupants(&state, admin, Scope::Host(id.0), None, 100).await?;
        Ok(Json(HostClosed { host_id: id.0, occupants_for_follow_up: items.into_iter().map(Into::into).collect() }))
    }

    /// The host's occupants (host key)
    #[oai(
        path = "/api/v1/host/occupants",
        method = "get",
        operation_id = "host_occupants",
        tag = "ApiTags::Enterprises"
    )]
    async fn host_occupants(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<OccupantPage>> {
        let host = match &auth.0 {
            crate::domain::principal::Principal::Staff(s) => match s.role {
                StaffRole::Host { id } => id,
                _ => return Err(Error::new(crate::error::Code::Forbidden)),
            },
            _ => return Err(Error::new(crate::error::Code::Forbidden)),
        };
        let r = services::hosts::occupants(
            &state,
            &auth.0,
            Scope::Host(host),
            after(cursor.0.as_deref())?,
            views::limit(limit.0)?,
        )
        .await?;
        Ok(Json(page(r)))
    }

    /// Confirm an occupant (host key)
    ///
    /// The host confirms the business really is at its premises.
    #[oai(
        path = "/api/v1/host/occupants/:id/confirmation",
        method = "post",
        operation_id = "confirm_occupant",
        tag = "ApiTags::Enterprises"
    )]
    async fn confirm(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<Confirmed>> {
        let at = services::hosts::confirm(&state, &auth.0, id.0).await?;
        Ok(Json(Confirmed { id: id.0, confirmed_at: at }))
    }
}
