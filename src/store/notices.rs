//! Simplified-deregistration notices and the objections to them.
use chrono::{DateTime, Utc};
use entities::{deregistration_notice, objection};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

pub use entities::deregistration_notice::Model as Row;

pub async fn insert(db: &impl ConnectionTrait, row: deregistration_notice::ActiveModel) -> Result<(), DbErr> {
    deregistration_notice::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Row>, DbErr> {
    deregistration_notice::Entity::find_by_id(id).one(db).await
}

pub async fn for_application(db: &impl ConnectionTrait, application_id: Uuid) -> Result<Option<Row>, DbErr> {
    deregistration_notice::Entity::find()
        .filter(deregistration_notice::Column::ApplicationId.eq(application_id))
        .order_by_desc(deregistration_notice::Column::CreatedAt)
        .one(db)
        .await
}

/// Notices still open at `now`, newest first, before `before` (id cursor).
pub async fn list_open(
    db: &impl ConnectionTrait,
    authority: Option<&str>,
    now: DateTime<Utc>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let mut q = deregistration_notice::Entity::find()
        .filter(deregistration_notice::Column::Status.eq("open"))
        .filter(deregistration_notice::Column::EndsAt.gt(now));
    if let Some(a) = authority {
        q = q.filter(deregistration_notice::Column::Authority.eq(a));
    }
    if let Some(b) = before {
        q = q.filter(deregistration_notice::Column::Id.lt(b));
    }
    q.order_by_desc(deregistration_notice::Column::Id).limit(limit).all(db).await
}

pub async fn set_status(db: &impl ConnectionTrait, id: Uuid, from: &str, to: &str) -> Result<bool, DbErr> {
    let r = deregistration_notice::Entity::update_many()
        .col_expr(deregistration_notice::Column::Status, Expr::value(to))
        .filter(deregistration_notice::Column::Id.eq(id))
        .filter(deregistration_notice::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn insert_objection(db: &impl ConnectionTrait, row: objection::ActiveModel) -> Result<(), DbErr> {
    objection::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn objections(db: &impl ConnectionTrait, notice_id: Uuid) -> Result<Vec<objection::Model>, DbErr> {
    objection::Entity::find()
        .filter(objection::Column::NoticeId.eq(notice_id))
        .order_by_asc(objection::Column::CreatedAt)
        .all(db)
        .await
}
