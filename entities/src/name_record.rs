//! Enterprise names in use or reserved, per registration authority: what the
//! name check compares against.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "name_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub authority: String,
    pub full_name: String,
    pub trade_name: String,
    pub industry: Option<String>,
    /// `reserved`, `registered` or `released` (cancelled or changed away).
    pub state: String,
    pub application_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    pub uscc: Option<String>,
    pub reserved_until: Option<DateTimeUtc>,
    /// A released name still blocks the same trade name for a year.
    pub released_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
