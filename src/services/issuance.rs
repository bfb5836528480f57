//! Issuing what an approval creates: the unified social credit code, the
//! enterprise record, its licence version and its registered name. Runs
//! inside the approving transaction, never on its own.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    registration::ApplicationRecord,
};
use crate::{
    domain::{
        form::{Form, Kind},
        licence::{self, LicenceContent},
        principal::Actor,
        uscc::{self, Uscc},
    },
    error::{Error, Result},
    store,
};

pub struct Issued {
    pub uscc: String,
    pub enterprise_id: Uuid,
    pub licence_version: i32,
}

/// Allocates the next code of the application's authority and category.
pub async fn allocate_uscc(db: &impl ConnectionTrait, form: &Form) -> Result<Uscc> {
    let category = form.entity_type.uscc_category();
    let seq = store::sequences::next(db, &format!("org:{category:?}:{}", form.admin_code)).await?;
    Ok(Uscc::issue(category, &form.admin_code, &uscc::org_body(seq as u64)))
}

async fn write_licence(
    db: &impl ConnectionTrait,
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
        },
    )
    .await?;
    Ok(())
}

/// Establishment: a new enterprise with licence version 1.
pub async fn establish(
    db: &impl ConnectionTrait,
    rec: &ApplicationRecord,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Issued> {
    debug_assert_eq!(rec.form.kind, Kind::Establish);
    let form = &rec.form;
    let code = allocate_uscc(db, form).await?;
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
        },
    )
    .await?;
    write_licence(db, enterprise_id, rec.row.id, &content, now).await?;
    store::names::register_reserved(db, rec.row.id, enterprise_id, code.as_str()).await?;
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
    Ok(Issued { uscc: code.to_string(), enterprise_id, licence_version: 1 })
}
