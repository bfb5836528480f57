//! The audit trail. Events are queued on the write transaction and inserted
//! together right before it commits (see [`super::WriteTx`]).
use chrono::{DateTime, Utc};
use entities::audit_event;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::WriteTx;
use crate::domain::principal::Actor;

pub struct Event<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before_version: Option<i32>,
    pub after_version: Option<i32>,
    pub detail: serde_json::Value,
}

pub fn record(tx: &WriteTx, e: Event<'_>) {
    tx.audit(audit_event::ActiveModel {
        id: Default::default(),
        occurred_at: Set(e.at),
        actor_role: Set(e.actor.role.to_string()),
        actor_id: Set(e.actor.id.clone()),
        channel: Set(e.actor.channel.clone()),
        action: Set(e.action.to_string()),
        subject_type: Set(e.subject_type.to_string()),
        subject_id: Set(e.subject_id.to_string()),
        before_version: Set(e.before_version),
        after_version: Set(e.after_version),
        detail: Set(e.detail.to_string()),
    });
}

pub(super) async fn insert_many(db: &impl ConnectionTrait, events: Vec<audit_event::ActiveModel>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    audit_event::Entity::insert_many(events).exec_without_returning(db).await.map(|_| ())
}

pub async fn for_subject(
    db: &impl ConnectionTrait,
    subject_type: &str,
    subject_id: &str,
) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::SubjectType.eq(subject_type))
        .filter(audit_event::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
}
