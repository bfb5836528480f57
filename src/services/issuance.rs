//! Issuing what an approval creates: the unified social credit code, the
//! enterprise record, its licence version and its registered name. Runs
//! inside the approving transaction, never on its own.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    events, notifications, places,
    registration::ApplicationRecord,
};
use crate::{
    domain::{
        form::{Form, Kind},
        licence::{self, LicenceContent},
        principal::Actor,
        scope::ScopeItem,
        uscc::{self, Uscc},
    },
    error::{Error, Result},
    state::AppState,
    store,
    store::WriteTx,
};

pub struct Issued {
    pub uscc: String,
    pub enterprise_id: Uuid,
    pub licence_version: i32,
}

/// Allocates the next code of the application's authority and category.
pub async fn allocate_uscc(db: &store::Db, tx: &impl ConnectionTrait, form: &Form) -> Result<Uscc> {
    let category = form.entity_type.uscc_category();
    let seq = db.next_code(tx, &format!("org:{category:?}:{}", form.admin_code)).await?;
    Ok(Uscc::issue(category, &form.admin_code, &uscc::org_body(seq as u64)))
}

/// Records the key this instance signs with rather than reading it in the
/// transaction: after a rotation elsewhere an instance may record the
/// previous key for a few seconds, which stays published and verifying
/// (and a retired key falls back to the signing one when credentials are
/// minted; see [`crate::services::signing::KeySet::for_version`]).
async fn write_licence(
    state: &AppState,
    db: &WriteTx,
    enterprise_id: Uuid,
    application_id: Uuid,
    content: &LicenceContent,
    now: DateTime<Utc>,
) -> Result<()> {
    store::enterprises::insert_licence(
        db,
        entities::licence_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            enterprise_id: Set(enterprise_id),
            version: Set(content.version),
            content: Set(serde_json::to_string(content).map_err(|e| Error::internal(anyhow::anyhow!(e)))?),
            issued_at: Set(now),
            application_id: Set(Some(application_id)),
            superseded_at: Set(None),
            signing_kid: Set(state.keys.current().signing.map(i32::from)),
        },
    )
    .await?;
    Ok(())
}

/// Establishment: a new enterprise with licence version 1.
pub async fn establish(
    state: &AppState,
    db: &WriteTx,
    rec: &ApplicationRecord,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Issued> {
    debug_assert_eq!(rec.form.kind, Kind::Establish);
    let registered = places::with_allocated_places(db, rec.row.id, &rec.form).await?;
    let form = &registered;
    let code = allocate_uscc(&state.db, db, form).await?;
    let enterprise_id = Uuid::now_v7();
    let established_on = licence::date_in_china(now);
    let content = LicenceContent::new(form, &code, 1, established_on, now);
    let representative = form.representative().map(|p| p.name.clone()).unwrap_or_default();
    store::enterprises::insert(
        db,
        entities::enterprise::ActiveModel {
            id: Set(enterprise_id),
            uscc: Set(code.to_string()),
            name: Set(form.name.clone()),
            entity_type: Set(form.entity_type.as_str().into()),
            status: Set("active".into()),
            abnormal: Set(false),
            abnormal_reason: Set(None),
            abnormal_since: Set(None),
            authority: Set(form.admin_code.to_string()),
            established_on: Set(established_on),
            licence_version: Set(1),
            owner_id_number: Set(rec.row.applicant_id_number.clone()),
            representative_name: Set(representative),
            profile: Set(form.canonical_json()),
            created_at: Set(now),
            updated_at: Set(now),
            deregistered_at: Set(None),
            revoked_at: Set(None),
            revocation_reason: Set(None),
        },
    )
    .await?;
    write_licence(state, db, enterprise_id, rec.row.id, &content, now).await?;
    places::take_up(db, rec.row.id, enterprise_id, form, false, now).await?;
    if form.name.is_some() {
        store::names::register_reserved(db, rec.row.id, enterprise_id, code.as_str()).await?;
    }

    let subject = code.to_string();
    audit::record(
        db,
        now,
        actor,
        "enterprise.registered",
        Subject { kind: "enterprise", id: &subject },
        None,
        Some(1),
        json!({ "application_id": rec.row.id, "entity_type": form.entity_type.as_str() }),
    )
    .await?;
    audit::record(
        db,
        now,
        actor,
        "licence.issued",
        Subject { kind: "enterprise", id: &subject },
        None,
        Some(1),
        json!({ "version": 1 }),
    )
    .await?;
    let pushed =
        notifications::Subject_ { enterprise_id, uscc: &subject, form, application_id: Some(rec.row.id), place: None };
    notifications::push(state, db, pushed, &form.scope, notifications::Reason::Establish, actor, now).await?;
    Ok(Issued { uscc: code.to_string(), enterprise_id, licence_version: 1 })
}

/// A change: the enterprise takes the new facts and a new licence version;
/// earlier versions stay, marked superseded.
pub async fn change(
    state: &AppState,
    db: &WriteTx,
    rec: &ApplicationRecord,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let registered = places::with_allocated_places(db, rec.row.id, &rec.form).await?;
    let form = &registered;
    let uscc = form.uscc.as_ref().ok_or_else(|| Error::internal(anyhow::anyhow!("change without uscc")))?;
    let ent = store::enterprises::lock_by_uscc(db, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    if ent.status != "active" {
        return Err(Error::new(crate::error::Code::InvalidState)
            .detail("该市场主体已不在存续状态", "The enterprise is no longer active"));
    }
    let old: Form = serde_json::from_str(&ent.profile).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let changed = crate::domain::change::diff(&old, form);
    let items: Vec<&str> = changed.iter().map(|i| i.as_str()).collect();
    let moving = changed
        .iter()
        .any(|i| matches!(i, crate::domain::change::Item::Domicile | crate::domain::change::Item::Premises));
    places::take_up(db, rec.row.id, ent.id, form, moving, now).await?;
    let version = ent.licence_version + 1;
    let mut content = LicenceContent::new(form, uscc, version, ent.established_on, now);
    content.premises.extend(places::extra_premises_texts(db, ent.id).await?);
    store::enterprises::supersede_licences(db, ent.id, now).await?;
    write_licence(state, db, ent.id, rec.row.id, &content, now).await?;
    if old.name != form.name {
        store::names::release_registered(db, ent.id, now).await?;
        store::names::register_reserved(db, rec.row.id, ent.id, uscc.as_str()).await?;
    }
    let mut am: entities::enterprise::ActiveModel = ent.clone().into();
    am.name = Set(form.name.clone());
    am.profile = Set(form.canonical_json());
    am.representative_name = Set(form.representative().map(|p| p.name.clone()).unwrap_or_default());
    am.licence_version = Set(version);
    am.updated_at = Set(now);
    store::enterprises::update(db, am).await?;
    let subject = uscc.to_string();
    audit::record(
        db,
        now,
        actor,
        "enterprise.changed",
        Subject { kind: "enterprise", id: &subject },
        Some(ent.licence_version),
        Some(version),
        json!({ "application_id": rec.row.id, "changed": items }),
    )
    .await?;
    audit::record(
        db,
        now,
        actor,
        "licence.issued",
        Subject { kind: "enterprise", id: &subject },
        Some(ent.licence_version),
        Some(version),
        json!({ "version": version }),
    )
    .await?;
    // Departments hear of licensed items the change adds; platforms of the re-issue.
    let added: Vec<&ScopeItem> =
        form.scope.iter().copied().filter(|i| !old.scope.iter().any(|o| o.code == i.code)).collect();
    let pushed = notifications::Subject_ {
        enterprise_id: ent.id,
        uscc: &subject,
        form,
        application_id: Some(rec.row.id),
        place: None,
    };
    notifications::push(state, db, pushed, &added, notifications::Reason::Change, actor, now).await?;
    events::record(db, &subject, events::LICENCE_REISSUED, json!({ "version": version, "changed": items }), now)
        .await?;
    Ok(Issued { uscc: subject, enterprise_id: ent.id, licence_version: version })
}

/// Deregistration: the enterprise ends; its name is released (and blocks
/// the same trade name for a year, art. 17); its licences stop being valid.
pub async fn deregister(
    state: &AppState,
    db: &WriteTx,
    rec: &ApplicationRecord,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let uscc = rec.form.uscc.as_ref().ok_or_else(|| Error::internal(anyhow::anyhow!("deregistration without uscc")))?;
    let ent = store::enterprises::lock_by_uscc(db, uscc.as_str()).await?.ok_or_else(Error::not_found)?;
    if ent.status != "active" {
        return Err(Error::new(crate::error::Code::InvalidState)
            .detail("该市场主体已不在存续状态", "The enterprise is no longer active"));
    }
    store::names::release_registered(db, ent.id, now).await?;
    store::places::end_registered(db, ent.id, true, now).await?;
    let mut am: entities::enterprise::ActiveModel = ent.clone().into();
    am.status = Set("deregistered".into());
    am.deregistered_at = Set(Some(now));
    am.updated_at = Set(now);
    store::enterprises::update(db, am).await?;
    let mode = rec.form.deregistration.as_ref().map(|d| format!("{:?}", d.mode).to_lowercase());
    audit::record(
        db,
        now,
        actor,
        "enterprise.deregistered",
        Subject { kind: "enterprise", id: uscc.as_str() },
        Some(ent.licence_version),
        Some(ent.licence_version),
        json!({ "application_id": rec.row.id, "mode": mode }),
    )
    .await?;
    // Departments that granted permits hear the enterprise is gone.
    let held = notifications::permits_held(db, ent.id).await?;
    let profile: Form = serde_json::from_str(&ent.profile).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let pushed = notifications::Subject_ {
        enterprise_id: ent.id,
        uscc: uscc.as_str(),
        form: &profile,
        application_id: Some(rec.row.id),
        place: None,
    };
    notifications::push(state, db, pushed, &held, notifications::Reason::Deregister, actor, now).await?;
    events::record(db, uscc.as_str(), events::STATUS_CHANGED, json!({ "status": "deregistered" }), now).await?;
    Ok(Issued { uscc: uscc.to_string(), enterprise_id: ent.id, licence_version: ent.licence_version })
}

/// Re-issues the licence of an active enterprise from its registered facts
/// and current premises (a filed or removed extra premises changes what the
/// licence lists). Returns the new version.
pub async fn reissue(
    db: &WriteTx,
    ent: &store::enterprises::Row,
    actor: &Actor,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<i32> {
    let profile: Form = serde_json::from_str(&ent.profile).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let uscc =
        Uscc::parse(&ent.uscc).map_err(|e| Error::internal(anyhow::anyhow!("stored code {}: {}", ent.uscc, e.code)))?;
    let version = ent.licence_version + 1;
    let mut content = LicenceContent::new(&profile, &uscc, version, ent.established_on, now);
    content.premises.extend(places::extra_premises_texts(db, ent.id).await?);
    store::enterprises::supersede_licences(db, ent.id, now).await?;
    store::enterprises::insert_licence(
        db,
        entities::licence_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            enterprise_id: Set(ent.id),
            version: Set(version),
            content: Set(serde_json::to_string(&content).map_err(|e| Error::internal(anyhow::anyhow!(e)))?),
            issued_at: Set(now),
            application_id: Set(None),
            superseded_at: Set(None),
            signing_kid: Set(store::signing_keys::signing_kid(db).await?),
        },
    )
    .await?;
    let mut am: entities::enterprise::ActiveModel = ent.clone().into();
    am.licence_version = Set(version);
    am.updated_at = Set(now);
    store::enterprises::update(db, am).await?;
    audit::record(
        db,
        now,
        actor,
        "licence.issued",
        Subject { kind: "enterprise", id: &ent.uscc },
        Some(ent.licence_version),
        Some(version),
        json!({ "version": version, "reason": reason }),
    )
    .await?;
    events::record(db, &ent.uscc, events::LICENCE_REISSUED, json!({ "version": version, "reason": reason }), now)
        .await?;
    Ok(version)
}
