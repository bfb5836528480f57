//! Credit restrictions: people and enterprises on serious-dishonesty lists,
//! barred from acting as legal representative, operator or investor.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "restrictions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `person` (by resident ID) or `enterprise` (by USCC).
    pub subject_kind: String,
    pub subject_key: String,
    pub subject_name: Option<String>,
    pub reason: String,
    /// The list or decision it comes from.
    pub source: String,
    pub listed_on: Date,
    pub expires_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub lifted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
