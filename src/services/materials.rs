//! Uploading and listing an application's materials. Adding or removing one
//! is an edit: a new version whose digest covers every material's SHA-256,
//! so parties sign the documents as well as the form.
use sea_orm::ActiveValue::Set;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    audit::{self, Subject},
    registration::{self, ApplicationRecord},
};
use crate::{
    domain::{
        FieldError,
        application::Event,
        materials::{self, MaterialKind},
        principal::{Applicant, Principal},
    },
    error::{Code, Error, Result},
    state::AppState,
    store,
};

pub struct Upload {
    pub kind: MaterialKind,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// Attaches a material; returns the application at its new version.
pub async fn upload(state: &AppState, a: &Applicant, id: Uuid, up: Upload) -> Result<(ApplicationRecord, Uuid)> {
    if up.bytes.len() > materials::MAX_BYTES {
        return Err(Error::new(Code::PayloadTooLarge).detail(
            format!("单个材料不得超过 {} 字节", materials::MAX_BYTES),
            format!("A material may not exceed {} bytes", materials::MAX_BYTES),
        ));
    }
    let media = materials::sniff(&up.bytes).ok_or_else(|| {
        Error::new(Code::UnsupportedMediaType)
            .detail("材料须为 PDF、JPEG 或 PNG 文件", "Materials must be PDF, JPEG or PNG files")
    })?;
    let filename = up
        .filename
        .map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(120).collect::<String>())
        .filter(|f| !f.is_empty());
    let sha = hex::encode(Sha256::digest(&up.bytes));
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = registration::load_own(&tx, a, id).await?;
    registration::transition(&rec, Event::Edit)?;
    let material_id = Uuid::now_v7();
    store::materials::insert(
        &tx,
        entities::material::ActiveModel {
            id: Set(material_id),
            application_id: Set(id),
            kind: Set(up.kind.as_str().into()),
            media_type: Set(media.as_str().into()),
            size: Set(up.bytes.len() as i64),
            sha256: Set(sha.clone()),
            filename: Set(filename),
            content: Set(up.bytes),
            created_at: Set(now),
        },
    )
    .await?;
    let mut hashes = rec.material_hashes();
    hashes.push(&sha);
    let version = registration::new_version(&tx, &rec, &rec.form, &hashes, now).await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &tx,
        now,
        &actor,
        "material.attached",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(version),
        json!({ "material_id": material_id, "kind": up.kind.as_str(), "sha256": sha, "media_type": media.as_str() }),
    )
    .await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok((rec, material_id))
}

pub async fn remove(state: &AppState, a: &Applicant, id: Uuid, material_id: Uuid) -> Result<ApplicationRecord> {
    let now = state.now();
    let tx = state.db.write().await?;
    let rec = registration::load_own(&tx, a, id).await?;
    registration::transition(&rec, Event::Edit)?;
    if !store::materials::delete(&tx, id, material_id).await? {
        return Err(Error::field(Code::NotFound, FieldError::new("material_id", "not_found")));
    }
    let hashes: Vec<&str> = rec.materials.iter().filter(|m| m.id != material_id).map(|m| m.sha256.as_str()).collect();
    let version = registration::new_version(&tx, &rec, &rec.form, &hashes, now).await?;
    let actor = Principal::Applicant(a.clone()).actor();
    audit::record(
        &tx,
        now,
        &actor,
        "material.removed",
        Subject { kind: "application", id: &id.to_string() },
        Some(rec.row.version),
        Some(version),
        json!({ "material_id": material_id }),
    )
    .await?;
    let rec = ApplicationRecord::load(&tx, id).await?.ok_or_else(Error::not_found)?;
    tx.commit().await?;
    Ok(rec)
}

/// The bytes of a material, for whoever may see the application.
pub async fn download(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    material_id: Uuid,
) -> Result<entities::material::Model> {
    registration::get(state, p, id).await?;
    store::materials::find(state.db.conn(), id, material_id).await?.ok_or_else(Error::not_found)
}
