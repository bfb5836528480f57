//! Recording audit events from services: queued on the write transaction,
//! written with it.
use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::{
    domain::principal::Actor,
    store::{self, WriteTx},
};

pub struct Subject<'a> {
    pub kind: &'a str,
    pub id: &'a str,
}

#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &WriteTx,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    subject: Subject<'_>,
    before_version: Option<i32>,
    after_version: Option<i32>,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    store::audit::record(
        tx,
        store::audit::Event {
            at,
            actor,
            action,
            subject_type: subject.kind,
            subject_id: subject.id,
            before_version,
            after_version,
            detail,
        },
    );
    Ok(())
}
