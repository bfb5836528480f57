//! One licence, many addresses (一照多址): extra business premises within
//! the registration authority's jurisdiction are filed under the licence
//! instead of registering a branch. Each filing or removal re-issues the
//! licence, which lists them.
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    issuance, notifications, places,
};
use crate::{
    domain::{
        FieldError,
        form::{Address, Form},
        principal::Principal,
        scope::{self, Timing},
        uscc::Uscc,
    },
    error::{Code, Error, Result},
    state::AppState,
    store::{self, places::PremisesRow},
};

pub struct Filing {
    pub address: Address,
    /// Scope codes carried on at these premises; empty means all registered.
    pub activities: Vec<String>,
}

/// The enterprise, if the principal owns it and it is active.
pub(crate) async fn own_active(
    db: &impl sea_orm::ConnectionTrait,
    p: &Principal,
    uscc: &Uscc,
) -> Result<(store::enterprises::Row, Form)> {
    let ent = store::enterprises::lock_by_uscc(db, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    let profile: Form = serde_json::from_str(&ent.profile).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let owner = p.applicant().is_some_and(|a| {
        ent.owner_id_number == a.id_number.as_str()
            || profile.representative().is_some_and(|r| r.id_number == a.id_number)
    });
    if !owner {
        return Err(Error::not_found());
    }
    if ent.status != "active" {
        return Err(Error::field(
            Code::InvalidState,
            FieldError::new("uscc", "enterprise_not_changeable").with("status", ent.status.clone()),
        ));
    }
    Ok((ent, profile))
}

pub async fn file(state: &AppState, p: &Principal, uscc: &Uscc, f: Filing) -> Result<(PremisesRow, i32)> {
    let now = state.now();
    let tx = state.db.write().await?;
    let (ent, profile) = own_active(&tx, p, uscc).await?;
    let county = f.address.township_code.county();
    if county.as_str() != ent.authority {
        return Err(Error::field(Code::ValidationFailed, FieldError::new("address.township_code", "outside_jurisdiction").with("authority", ent.authority.clone())).detail(
            format!("该地址不在登记机关（{}）辖区内：辖区外的经营场所须办理分支机构登记", crate::domain::licence::authority_name(&profile.admin_code)),
            "These premises are outside the registration authority's jurisdiction: premises elsewhere need a branch registration",
        ));
    }
    let items = scope::parse_codes(&f.activities)
        .map_err(|e| Error::validation(e.into_iter().map(|x| x.under("activities")).collect()))?;
    let mut errors = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if !profile.scope.iter().any(|s| s.code == it.code) {
            errors.push(FieldError::new(format!("activities[{i}]"), "not_in_scope").with("value", it.code));
        } else if it.timing == Some(Timing::Pre) {
            errors.push(FieldError::new(format!("activities[{i}]"), "branch_required").with("value", it.code));
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let addr = places::address_of(&tx, &f.address, now).await?;
    if store::places::premises_of(&tx, ent.id).await?.iter().any(|x| x.address_id == Some(addr.id)) {
        return Err(Error::field(Code::Conflict, FieldError::new("address", "duplicate")));
    }
    let occupancy_id = Uuid::now_v7();
    store::places::insert_occupancy(
        &tx,
        entities::occupancy::Model {
            id: occupancy_id,
            address_id: addr.id,
            host_id: None,
            unit_no: None,
            enterprise_id: Some(ent.id),
            application_id: None,
            role: "premises".into(),
            state: "active".into(),
            residence: f.address.residence,
            confirmed_at: None,
            started_at: now,
            ended_at: None,
        },
    )
    .await?;
    let codes: Vec<&str> = if items.is_empty() {
        profile.scope.iter().map(|s| s.code).collect()
    } else {
        items.iter().map(|s| s.code).collect()
    };
    let row = entities::premises::Model {
        id: Uuid::now_v7(),
        enterprise_id: Some(ent.id),
        application_id: None,
        kind: "address".into(),
        platform: None,
        url: None,
        address_id: Some(addr.id),
        occupancy_id: Some(occupancy_id),
        registered: false,
        activities: serde_json::to_string(&codes).unwrap_or_default(),
        state: "active".into(),
        created_at: now,
        removed_at: None,
    };
    store::places::insert_premises(&tx, row.clone()).await?;
    let actor = p.actor();
    audit::record(
        &tx,
        now,
        &actor,
        "premises.filed",
        Subject { kind: "enterprise", id: uscc.as_str() },
        None,
        None,
        json!({ "premises_id": row.id, "address_id": addr.id, "activities": codes }),
    )
    .await?;
    let version = issuance::reissue(&tx, &ent, &actor, "premises filed", now).await?;
    // Licensed activities at the new place: their departments are told where.
    let licensed: Vec<&scope::ScopeItem> =
        codes.iter().filter_map(|c| scope::lookup(c)).filter(|i| i.needs_department()).collect();
    let place = format!("{}{}", f.address.township_code.full_name(), f.address.detail);
    let pushed = notifications::Subject_ {
        enterprise_id: ent.id,
        uscc: uscc.as_str(),
        form: &profile,
        application_id: None,
        place: Some(place),
    };
    notifications::push(state, &tx, pushed, &licensed, notifications::Reason::Premises, &actor, now).await?;
    tx.commit().await?;
    Ok((row, version))
}

pub async fn remove(state: &AppState, p: &Principal, uscc: &Uscc, id: Uuid) -> Result<i32> {
    let now = state.now();
    let tx = state.db.write().await?;
    let (ent, _) = own_active(&tx, p, uscc).await?;
    if store::places::remove_premises(&tx, ent.id, id, now).await?.is_none() {
        return Err(Error::not_found());
    }
    let actor = p.actor();
    audit::record(
        &tx,
        now,
        &actor,
        "premises.removed",
        Subject { kind: "enterprise", id: uscc.as_str() },
        None,
        None,
        json!({ "premises_id": id }),
    )
    .await?;
    let ent = store::enterprises::find_by_uscc(&tx, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    let version = issuance::reissue(&tx, &ent, &actor, "premises removed", now).await?;
    tx.commit().await?;
    Ok(version)
}
