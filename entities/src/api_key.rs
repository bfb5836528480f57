//! API keys for staff and integrators. Only the key's hash is kept.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The first characters of the key, so an operator can tell keys apart.
    pub key_prefix: String,
    /// `reviewer`, `department`, `platform`, `host` or `admin`.
    pub role: String,
    pub name: String,
    /// County-level admin code of the registration authority (reviewers).
    pub authority: Option<String>,
    pub department_code: Option<String>,
    pub platform_id: Option<String>,
    /// Address hosts: the host this key acts for.
    pub host_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
