//! Mobile entry points (WeChat/Alipay mini-programs, government apps) allowed
//! to vouch for an applicant's real-name identity.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// `HS256` or `EdDSA`: the only algorithm accepted from this channel.
    pub algorithm: String,
    /// HS256: the shared secret (needed in clear to verify). EdDSA: the
    /// base64url raw 32-byte public key.
    pub key_material: String,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
