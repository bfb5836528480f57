//! E-signatures: a party's consent to one version of an application. A new
//! version needs new signatures; old ones stay as history.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub version: i32,
    pub id_number: String,
    pub name: String,
    /// The form digest signed.
    pub digest: String,
    pub channel_id: String,
    pub session_id: Uuid,
    pub signed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
