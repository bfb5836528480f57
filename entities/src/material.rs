//! Attachments to an application (PDF, JPEG, PNG), stored with the
//! application so they commit and back up together.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "materials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    /// What it is: `articles_of_association`, `premises_proof`, …
    pub kind: String,
    /// Sniffed from the content, not taken from the client.
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub filename: Option<String>,
    #[sea_orm(column_type = "VarBinary(StringLen::None)")]
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
