//! Registered market entities. The registered facts are a JSON profile; the
//! columns are what queries filter and sort on.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprises")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub uscc: String,
    pub name: Option<String>,
    pub entity_type: String,
    /// `active`, `deregistered`, `revoked`.
    pub status: String,
    pub abnormal: bool,
    pub abnormal_reason: Option<String>,
    pub abnormal_since: Option<DateTimeUtc>,
    pub authority: String,
    pub established_on: Date,
    pub licence_version: i32,
    /// Resident ID of the person who applied for establishment.
    pub owner_id_number: String,
    /// Legal representative or operator (name only: public).
    pub representative_name: String,
    #[sea_orm(column_type = "Text")]
    pub profile: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deregistered_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revocation_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
