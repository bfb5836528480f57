//! Credential signing keys.
use chrono::{DateTime, Utc};
use entities::signing_key;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};

pub use entities::signing_key::Model as Row;

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Row>, DbErr> {
    signing_key::Entity::find().order_by_asc(signing_key::Column::Kid).all(db).await
}

pub async fn insert(db: &impl ConnectionTrait, row: Row) -> Result<(), DbErr> {
    signing_key::Entity::insert(signing_key::ActiveModel::from(row)).exec_without_returning(db).await.map(|_| ())
}

/// Moves every key in `from` to `to`; returns how many moved.
pub async fn set_status(
    db: &impl ConnectionTrait,
    kid: Option<i32>,
    from: &str,
    to: &str,
    retired_at: Option<DateTime<Utc>>,
) -> Result<u64, DbErr> {
    let mut q = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::Status, Expr::value(to))
        .col_expr(signing_key::Column::RetiredAt, Expr::value(retired_at))
        .filter(signing_key::Column::Status.eq(from));
    if let Some(k) = kid {
        q = q.filter(signing_key::Column::Kid.eq(k));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Serialises key changes between instances: the row lock on PostgreSQL,
/// the writer's turn on SQLite.
pub async fn lock_all(db: &impl ConnectionTrait) -> Result<Vec<Row>, DbErr> {
    use sea_orm::QuerySelect;
    let q = signing_key::Entity::find().order_by_asc(signing_key::Column::Kid);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q.lock_exclusive().all(db).await
    } else {
        q.all(db).await
    }
}

pub fn new_row(kid: i32, public_key: String, private_key: String, now: DateTime<Utc>) -> Row {
    Row { kid, public_key, private_key, status: "signing".into(), created_at: now, retired_at: None }
}

/// The id of the key that signs today (`None` before the first is made).
pub async fn signing_kid(db: &impl ConnectionTrait) -> Result<Option<i32>, DbErr> {
    use sea_orm::QuerySelect;
    signing_key::Entity::find()
        .select_only()
        .column(signing_key::Column::Kid)
        .filter(signing_key::Column::Status.eq("signing"))
        .into_tuple()
        .one(db)
        .await
}
