//! Where enterprises are: shared addresses and their occupants, hosted
//! places under an address host (一址多照), online shops (网络经营场所), and
//! the occupancy moves a registration, change or deregistration makes.
//!
//! Submission reserves places; approval makes them the enterprise's, in the
//! approving transaction; a rejection or withdrawal gives them back.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::registration::ApplicationRecord;
use crate::{
    domain::{
        FieldError,
        address::CanonicalAddress,
        form::{Address, Form, Premises},
    },
    error::{Code, Error, Result},
    store::{self, WriteTx, is_unique_violation, places::AddressRow},
};

/// Something a reviewer should look at before approving.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Warning {
    pub code: String,
    pub field: String,
    pub detail: String,
}

/// Finds or creates the shared record of a structured address.
pub async fn address_of(db: &WriteTx, a: &Address, now: DateTime<Utc>) -> Result<AddressRow> {
    let c = CanonicalAddress::new(a.township_code.clone(), &a.detail);
    Ok(store::places::find_or_create_address(
        db,
        c.township.as_str(),
        c.township.county().as_str(),
        &c.detail,
        &c.canonical,
        None,
        now,
    )
    .await?)
}

/// A numbered place under a host: checks the host takes this business and
/// has room (the host row is locked while counting), then numbers it.
async fn hosted_place(
    db: &WriteTx,
    host_id: Uuid,
    rec: &ApplicationRecord,
    field: &str,
    now: DateTime<Utc>,
) -> Result<(AddressRow, i32)> {
    let fe = |code: &'static str| FieldError::new(format!("{field}.host_id"), code);
    let host = store::places::lock_host(db, host_id).await?.ok_or_else(|| Error::validation(vec![fe("not_found")]))?;
    if host.status != "active" {
        return Err(Error::field(Code::InvalidState, fe("host_closed"))
            .detail("该托管地址已停止托管", "The address host has closed"));
    }
    let types: Vec<String> = serde_json::from_str(&host.entity_types).unwrap_or_default();
    if !types.is_empty() && !types.iter().any(|t| t == rec.form.entity_type.as_str()) {
        return Err(Error::field(Code::Conflict, fe("host_not_accepting").with("detail", "entity type")));
    }
    let prefixes: Vec<String> = serde_json::from_str(&host.industries).unwrap_or_default();
    if !prefixes.is_empty() && !rec.form.scope.iter().all(|s| prefixes.iter().any(|p| s.code.starts_with(p.as_str()))) {
        return Err(Error::field(Code::Conflict, fe("host_not_accepting").with("detail", "business scope")));
    }
    let taken = store::places::host_places_taken(db, host_id).await?;
    if taken >= host.capacity as u64 {
        return Err(Error::field(
            Code::CapacityExhausted,
            fe("capacity_exhausted").with("capacity", host.capacity.to_string()),
        )
        .detail(
            format!("“{}”的 {} 个托管名额已满", host.name, host.capacity),
            format!("All {} places at {} are taken", host.capacity, host.name),
        ));
    }
    let base = store::places::address(db, host.address_id).await?.ok_or_else(Error::not_found)?;
    let unit = store::sequences::next(db, &format!("host:{host_id}")).await? as i32 + 1;
    let detail = format!("{}（{}集群注册第{unit:04}号）", base.detail, host.name);
    let canonical = format!("{}#{unit}", base.canonical);
    let addr = store::places::find_or_create_address(
        db,
        &base.township_code,
        &base.county_code,
        &detail,
        &canonical,
        Some((base.id, unit)),
        now,
    )
    .await?;
    Ok((addr, unit))
}

/// What submission reserved: warnings for the reviewer.
pub struct Reservation {
    pub warnings: Vec<Warning>,
}

/// Reserves the places of a submitted application: numbered places under
/// hosts (capacity enforced), shared addresses, online shops (one live
/// enterprise per URL). A change reserves only places the enterprise does
/// not already hold.
pub async fn reserve(
    db: &WriteTx,
    rec: &ApplicationRecord,
    enterprise_id: Option<Uuid>,
    threshold: u64,
    now: DateTime<Utc>,
) -> Result<Reservation> {
    // A resubmission replaces what the last submission held; before the
    // first submission nothing is held.
    if rec.row.submitted_at.is_some() {
        store::places::release_reservations(db, rec.row.id, now).await?;
    }
    let held_urls: Vec<String>;
    let held_addresses: Vec<Uuid>;
    match enterprise_id {
        Some(e) => {
            let held = store::places::premises_of(db, e).await?;
            held_urls = held.iter().filter_map(|p| p.url.clone()).collect();
            let occ = store::places::occupants_of_enterprise(db, e).await?;
            held_addresses = occ.iter().map(|o| o.address_id).collect();
        }
        None => {
            held_urls = vec![];
            held_addresses = vec![];
        }
    }
    let mut warnings = Vec::new();
    let mut places: Vec<(String, &'static str, &Address, Option<Uuid>, bool)> = Vec::new();
    if let Some(d) = &rec.form.domicile {
        places.push(("domicile".into(), "domicile", d, d.host_id, d.residence));
    }
    for (i, p) in rec.form.premises.iter().enumerate() {
        match p {
            Premises::Online { platform, url } => {
                if held_urls.contains(url) {
                    continue;
                }
                // The partial unique index on live URLs decides: one
                // statement, and no race between a look and an insert.
                let field = format!("premises[{i}].url");
                let row = entities::premises::Model {
                    id: Uuid::now_v7(),
                    enterprise_id: None,
                    application_id: Some(rec.row.id),
                    kind: "online".into(),
                    platform: Some(platform.clone()),
                    url: Some(url.clone()),
                    address_id: None,
                    occupancy_id: None,
                    registered: true,
                    activities: "[]".into(),
                    state: "reserved".into(),
                    created_at: now,
                    removed_at: None,
                };
                store::places::insert_premises(db, row)
                    .await
                    .map_err(|e| if is_unique_violation(&e) { url_taken(&field) } else { e.into() })?;
            }
            Premises::Address { address, host_id, residence } => {
                places.push((format!("premises[{i}]"), "premises", address, *host_id, *residence));
            }
        }
    }
    for (field, role, address, host_id, residence) in places {
        // A place the enterprise already holds (a change keeping its address,
        // including its numbered hosted place) is not reserved again.
        let c = CanonicalAddress::new(address.township_code.clone(), &address.detail);
        if let Some(existing) = store::places::find_address(db, c.township.as_str(), &c.canonical).await?
            && held_addresses.contains(&existing.id)
        {
            continue;
        }
        let (addr, unit) = match host_id {
            Some(h) => {
                let (a, u) = hosted_place(db, h, rec, &field, now).await?;
                (a, Some(u))
            }
            None => (address_of(db, address, now).await?, None),
        };
        if held_addresses.contains(&addr.id) {
            continue;
        }
        if host_id.is_none() {
            let n = store::places::active_occupants(db, addr.id).await?;
            if n >= threshold {
                warnings.push(Warning {
                    code: "address_concentration".into(),
                    field: field.clone(),
                    detail: format!("{n} enterprises are already registered at this address (threshold {threshold})"),
                });
            }
        }
        let occupancy_id = Uuid::now_v7();
        store::places::insert_occupancy(
            db,
            entities::occupancy::Model {
                id: occupancy_id,
                address_id: addr.id,
                host_id,
                unit_no: unit,
                enterprise_id: None,
                application_id: Some(rec.row.id),
                role: role.into(),
                state: "reserved".into(),
                residence,
                confirmed_at: None,
                started_at: now,
                ended_at: None,
            },
        )
        .await?;
        if role == "premises" {
            store::places::insert_premises(
                db,
                entities::premises::Model {
                    id: Uuid::now_v7(),
                    enterprise_id: None,
                    application_id: Some(rec.row.id),
                    kind: "address".into(),
                    platform: None,
                    url: None,
                    address_id: Some(addr.id),
                    occupancy_id: Some(occupancy_id),
                    registered: true,
                    activities: "[]".into(),
                    state: "reserved".into(),
                    created_at: now,
                    removed_at: None,
                },
            )
            .await?;
        }
    }
    Ok(Reservation { warnings })
}

fn url_taken(field: &str) -> Error {
    Error::field(Code::Conflict, FieldError::new(field, "shop_url_taken")).detail(
        "该网店网址已是另一存续市场主体的经营场所",
        "This shop URL is already the premises of another live enterprise",
    )
}

/// The extra premises filed under an enterprise's licence, as printed.
pub async fn extra_premises_texts(db: &WriteTx, enterprise_id: Uuid) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for p in store::places::premises_of(db, enterprise_id).await?.into_iter().filter(|p| !p.registered) {
        if let Some(a) = p.address_id
            && let Some(addr) = store::places::address(db, a).await?
        {
            let township = crate::domain::admin_code::TownshipCode::parse(&addr.township_code)
                .map(|t| t.full_name())
                .unwrap_or_default();
            out.push(format!("经营场所（备案）：{township}{}", addr.detail));
        }
    }
    Ok(out)
}

/// The form as registered: hosted places get their numbered sub-address.
pub async fn with_allocated_places(db: &WriteTx, application_id: Uuid, form: &Form) -> Result<Form> {
    let mut form = form.clone();
    let hosted = form.domicile.iter().any(|d| d.host_id.is_some())
        || form.premises.iter().any(|p| matches!(p, Premises::Address { host_id: Some(_), .. }));
    if !hosted {
        return Ok(form);
    }
    let occ = store::places::occupancies_of_application(db, application_id).await?;
    for o in occ.iter().filter(|o| o.host_id.is_some() && o.state == "reserved") {
        let Some(addr) = store::places::address(db, o.address_id).await? else { continue };
        let target: Option<&mut Address> = match o.role.as_str() {
            "domicile" => form.domicile.as_mut().filter(|d| d.host_id == o.host_id),
            _ => form.premises.iter_mut().find_map(|p| match p {
                Premises::Address { address, host_id, .. }
                    if *host_id == o.host_id && !address.detail.contains("集群注册") =>
                {
                    Some(address)
                }
                _ => None,
            }),
        };
        if let Some(a) = target {
            a.detail = addr.detail.clone();
        }
    }
    Ok(form)
}

/// Approval: the reserved places become the enterprise's; on a change, the
/// places it no longer names are ended.
pub async fn take_up(
    db: &WriteTx,
    application_id: Uuid,
    enterprise_id: Uuid,
    form: &Form,
    moving: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if moving {
        let keep_urls: Vec<String> = form
            .premises
            .iter()
            .filter_map(|p| match p {
                Premises::Online { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect();
        let mut keep_addresses = Vec::new();
        for a in form.domicile.iter().chain(form.premises.iter().filter_map(|p| match p {
            Premises::Address { address, .. } => Some(address),
            _ => None,
        })) {
            let c = CanonicalAddress::new(a.township_code.clone(), &a.detail);
            if let Some(row) = store::places::find_address(db, c.township.as_str(), &c.canonical).await? {
                keep_addresses.push(row.id);
            }
        }
        store::places::end_registered_except(db, enterprise_id, &keep_urls, &keep_addresses, now).await?;
    }
    // What the submission reserved follows from the form (a resubmission
    // released the earlier ones), so empty updates are not sent.
    let addresses = form.domicile.is_some() || form.premises.iter().any(|p| matches!(p, Premises::Address { .. }));
    if addresses {
        store::places::activate_occupancies(db, application_id, enterprise_id, now).await?;
    }
    if !form.premises.is_empty() {
        store::places::activate_premises(db, application_id, enterprise_id).await?;
    }
    Ok(())
}
