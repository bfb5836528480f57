//! Ed25519 keys that sign licence credentials. `signing`: the one new
//! credentials use; `verifying`: rotated out, still published so credentials
//! it signed keep verifying; `retired`: withdrawn, no longer published.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: i32,
    /// base64url, 32 bytes.
    pub public_key: String,
    /// base64url seed, 32 bytes: whoever reads the database can sign.
    pub private_key: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
