//! Licensing departments: who grants which permits where, and where to push.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "departments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    /// As the catalogue's `department_kind` (market_regulation, publishing…).
    pub kind: String,
    /// The 6-digit code of its jurisdiction: a county, a city (`xxxx00`), a
    /// province (`xx0000`) or the nation (`000000`).
    pub admin_code: String,
    pub webhook_url: Option<String>,
    /// HMAC key for webhook signatures; kept in clear because signing needs it.
    pub webhook_secret: Option<String>,
    /// Working days to claim a pushed registration.
    pub claim_days: i32,
    /// Working days from claim to feedback.
    pub feedback_days: i32,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
