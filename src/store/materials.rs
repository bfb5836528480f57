//! Application materials. Listing never loads the bytes.
use entities::material;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A material without its content.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Meta {
    pub id: Uuid,
    pub application_id: Uuid,
    pub kind: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub filename: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn insert(db: &impl ConnectionTrait, row: material::ActiveModel) -> Result<(), DbErr> {
    material::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn list(db: &impl ConnectionTrait, application_id: Uuid) -> Result<Vec<Meta>, DbErr> {
    material::Entity::find()
        .select_only()
        .columns([
            material::Column::Id,
            material::Column::ApplicationId,
            material::Column::Kind,
            material::Column::MediaType,
            material::Column::Size,
            material::Column::Sha256,
            material::Column::Filename,
            material::Column::CreatedAt,
        ])
        .filter(material::Column::ApplicationId.eq(application_id))
        .order_by_asc(material::Column::CreatedAt)
        .order_by_asc(material::Column::Id)
        .into_model::<Meta>()
        .all(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, application_id: Uuid, id: Uuid) -> Result<Option<material::Model>, DbErr> {
    material::Entity::find_by_id(id).filter(material::Column::ApplicationId.eq(application_id)).one(db).await
}

pub async fn delete(db: &impl ConnectionTrait, application_id: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let r = material::Entity::delete_many()
        .filter(material::Column::Id.eq(id))
        .filter(material::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
