//! Departments and dual-notification records.
use chrono::{DateTime, Utc};
use entities::{department, notification};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};
use uuid::Uuid;

pub use entities::{department::Model as DepartmentRow, notification::Model as Row};

pub async fn upsert_department(db: &impl ConnectionTrait, row: department::Model) -> Result<(), DbErr> {
    department::Entity::insert(department::ActiveModel::from(row))
        .on_conflict(
            OnConflict::column(department::Column::Code)
                .update_columns([
                    department::Column::Name,
                    department::Column::Kind,
                    department::Column::AdminCode,
                    department::Column::WebhookUrl,
                    department::Column::WebhookSecret,
                    department::Column::ClaimDays,
                    department::Column::FeedbackDays,
                    department::Column::DisabledAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn department(db: &impl ConnectionTrait, code: &str) -> Result<Option<DepartmentRow>, DbErr> {
    department::Entity::find_by_id(code.to_string()).one(db).await
}

/// The department of `kind` serving `jurisdiction`, if one is configured.
pub async fn route(db: &impl ConnectionTrait, kind: &str, jurisdiction: &str) -> Result<Option<DepartmentRow>, DbErr> {
    department::Entity::find()
        .filter(department::Column::Kind.eq(kind))
        .filter(department::Column::AdminCode.eq(jurisdiction))
        .filter(department::Column::DisabledAt.is_null())
        .order_by_asc(department::Column::Code)
        .one(db)
        .await
}

pub async fn departments(db: &impl ConnectionTrait) -> Result<Vec<DepartmentRow>, DbErr> {
    department::Entity::find().order_by_asc(department::Column::Code).all(db).await
}

pub async fn insert(db: &impl ConnectionTrait, rows: Vec<notification::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    notification::Entity::insert_many(rows.into_iter().map(notification::ActiveModel::from))
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// What a department sees: its own notifications, and the unassigned pool
/// of its jurisdiction.
fn visible_to(dept: &DepartmentRow) -> Condition {
    Condition::any().add(notification::Column::DepartmentCode.eq(dept.code.clone())).add(
        Condition::all()
            .add(notification::Column::DepartmentCode.is_null())
            .add(notification::Column::Jurisdiction.eq(dept.admin_code.clone())),
    )
}

pub struct ListFilter<'a> {
    pub dept: &'a DepartmentRow,
    pub status: Option<&'a str>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

pub async fn list(db: &impl ConnectionTrait, f: ListFilter<'_>) -> Result<Vec<Row>, DbErr> {
    let mut q = notification::Entity::find().filter(visible_to(f.dept));
    if let Some(s) = f.status {
        q = q.filter(notification::Column::Status.eq(s));
    }
    if let Some(t) = f.overdue_at {
        q = q.filter(overdue(t));
    }
    if let Some(t) = f.since {
        q = q.filter(notification::Column::PushedAt.gte(t));
    }
    if let Some(t) = f.until {
        q = q.filter(notification::Column::PushedAt.lt(t));
    }
    if let Some(a) = f.after {
        q = q.filter(notification::Column::Id.gt(a));
    }
    q.order_by_asc(notification::Column::Id).limit(f.limit).all(db).await
}

/// Past its claim or feedback deadline at `now`.
pub fn overdue(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(notification::Column::Status.eq("pending"))
                .add(notification::Column::ClaimDueAt.lt(now)),
        )
        .add(
            Condition::all()
                .add(notification::Column::Status.eq("claimed"))
                .add(notification::Column::FeedbackDueAt.lt(now)),
        )
}

pub async fn find_for(db: &impl ConnectionTrait, dept: &DepartmentRow, id: Uuid) -> Result<Option<Row>, DbErr> {
    let mut q = notification::Entity::find_by_id(id).filter(visible_to(dept));
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db).await
}

pub async fn update(db: &impl ConnectionTrait, row: notification::ActiveModel) -> Result<(), DbErr> {
    notification::Entity::update(row).exec(db).await.map(|_| ())
}

pub async fn for_enterprise(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<Row>, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await
}

/// Every overdue notification (for the per-department report).
pub async fn all_overdue(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<Row>, DbErr> {
    notification::Entity::find().filter(overdue(now)).order_by_asc(notification::Column::Id).all(db).await
}
