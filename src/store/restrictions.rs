//! Credit-restriction lists.
use chrono::{DateTime, NaiveDate, Utc};
use entities::restriction;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

pub use entities::restriction::Model as Row;

pub async fn insert(db: &impl ConnectionTrait, row: restriction::ActiveModel) -> Result<(), DbErr> {
    restriction::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

/// Restrictions in force on `today` for any of `keys` (ID numbers or codes).
pub async fn in_force(db: &impl ConnectionTrait, keys: &[String], today: NaiveDate) -> Result<Vec<Row>, DbErr> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    restriction::Entity::find()
        .filter(restriction::Column::SubjectKey.is_in(keys.iter().cloned()))
        .filter(restriction::Column::LiftedAt.is_null())
        .filter(restriction::Column::ListedOn.lte(today))
        .filter(
            Condition::any()
                .add(restriction::Column::ExpiresOn.is_null())
                .add(restriction::Column::ExpiresOn.gte(today)),
        )
        .all(db)
        .await
}

pub async fn lift(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = restriction::Entity::update_many()
        .col_expr(restriction::Column::LiftedAt, Expr::value(now))
        .filter(restriction::Column::Id.eq(id))
        .filter(restriction::Column::LiftedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
