//! An enterprise's business premises: its registered place(s), online shops,
//! and extra premises filed under one licence (一照多址).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "premises")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enterprise_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    /// `online` or `address`.
    pub kind: String,
    pub platform: Option<String>,
    /// Normalised shop URL; one live enterprise per URL.
    pub url: Option<String>,
    pub address_id: Option<Uuid>,
    pub occupancy_id: Option<Uuid>,
    /// Registered with the enterprise (true) or filed later as extra premises.
    pub registered: bool,
    /// JSON list of scope codes carried on here (extra premises).
    #[sea_orm(column_type = "Text")]
    pub activities: String,
    /// `reserved`, `active` or `removed`.
    pub state: String,
    pub created_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
