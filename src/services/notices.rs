//! Simplified deregistration's public notice: anyone may read it and object
//! while it runs; an objection stops the simplified procedure.
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Subject};
use crate::{
    domain::principal::Actor,
    error::{Code, Error, Result},
    state::AppState,
    store,
};

pub async fn list_open(
    state: &AppState,
    authority: Option<&str>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<store::notices::Row>, Option<Uuid>)> {
    let rows = store::notices::list_open(state.db.conn(), authority, state.now(), before, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next = if more { rows.last().map(|r| r.id) } else { None };
    Ok((rows, next))
}

pub struct NewObjection {
    pub name: String,
    pub contact: Option<String>,
    pub reason: String,
}

pub struct Lodged {
    pub id: Uuid,
    pub at: DateTime<Utc>,
}

/// Lodges an objection. The notice ends, and the application is rejected
/// for the simplified procedure (ordinary deregistration remains open).
pub async fn object(state: &AppState, client: &str, notice_id: Uuid, o: NewObjection) -> Result<Lodged> {
    let now = state.now();
    let tx = state.db.write().await?;
    let notice = store::notices::find(&tx, notice_id).await?.ok_or_else(Error::not_found)?;
    // The application before the notice, in the order a reviewer's decision
    // takes them (it reads the application locked, then closes the notice):
    // the other order could deadlock with it. The notice is read again
    // after the lock, in case that decision closed it meanwhile.
    let app = store::applications::find_locked(&tx, notice.application_id).await?;
    let notice = store::notices::find(&tx, notice_id).await?.ok_or_else(Error::not_found)?;
    if notice.status != "open" || notice.ends_at <= now {
        return Err(Error::new(Code::InvalidState)
            .detail("公告已结束，不再受理异议", "The notice has ended; objections are closed"));
    }
    let id = Uuid::now_v7();
    store::notices::insert_objection(
        &tx,
        entities::objection::ActiveModel {
            id: Set(id),
            notice_id: Set(notice_id),
            objector_name: Set(o.name.clone()),
            objector_contact: Set(o.contact.clone()),
            reason: Set(o.reason.clone()),
            created_at: Set(now),
        },
    )
    .await?;
    store::notices::set_status(&tx, notice_id, "open", "objected").await?;
    let actor = Actor::public(client);
    audit::record(
        &tx,
        now,
        &actor,
        "deregistration_notice.objected",
        Subject { kind: "enterprise", id: &notice.uscc },
        None,
        None,
        json!({ "notice_id": notice_id, "objection_id": id, "objector": o.name, "reason": o.reason }),
    )
    .await?;
    if let Some(app) = app
        && app.status == "submitted"
    {
        let changes = entities::application::ActiveModel {
            status: Set("rejected".into()),
            decided_at: Set(Some(now)),
            decided_by: Set(Some("auto".into())),
            decision_reason: Set(Some(
                "简易注销公告期内有利害关系人提出异议，不适用简易注销程序；可依一般程序申请注销。".into(),
            )),
            updated_at: Set(now),
            ..Default::default()
        };
        if store::applications::update_if(&tx, app.id, app.version, "submitted", changes).await? {
            audit::record(
                &tx,
                now,
                &Actor::system(),
                "application.rejected",
                Subject { kind: "application", id: &app.id.to_string() },
                Some(app.version),
                Some(app.version),
                json!({ "reason": "objection", "objection_id": id }),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Lodged { id, at: now })
}
