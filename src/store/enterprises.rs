//! Registered enterprises and their licence versions.
use entities::{enterprise, licence_version};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

pub use entities::{enterprise::Model as Row, licence_version::Model as LicenceRow};

pub async fn insert(db: &impl ConnectionTrait, row: enterprise::ActiveModel) -> Result<(), DbErr> {
    enterprise::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn find_by_uscc(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<Row>, DbErr> {
    enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc)).one(db).await
}

pub async fn update(db: &impl ConnectionTrait, row: enterprise::ActiveModel) -> Result<(), DbErr> {
    enterprise::Entity::update(row).exec(db).await.map(|_| ())
}

pub async fn insert_licence(db: &impl ConnectionTrait, row: licence_version::ActiveModel) -> Result<(), DbErr> {
    licence_version::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn licences(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<LicenceRow>, DbErr> {
    licence_version::Entity::find()
        .filter(licence_version::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(licence_version::Column::Version)
        .all(db)
        .await
}
