//! Registration applications (establish, change, deregister): one row per
//! application, the form itself as canonical JSON.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub entity_type: String,
    /// County-level admin code of the registration authority.
    pub authority: String,
    pub status: String,
    /// Bumped by every edit; `If-Match` compares against it.
    pub version: i32,
    pub name: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub form: String,
    /// SHA-256 (hex) of the canonical form of this version: what parties sign.
    pub form_digest: String,
    pub applicant_id_number: String,
    pub applicant_name: String,
    pub channel_id: String,
    /// For changes and deregistrations: the enterprise concerned.
    pub target_uscc: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub due_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    /// `auto` or `reviewer`.
    pub decided_by: Option<String>,
    pub reviewer_key_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    /// JSON list of `{field, comment}` from a return for correction.
    #[sea_orm(column_type = "Text", nullable)]
    pub field_comments: Option<String>,
    /// JSON: the automatic-approval rules evaluated at the last submission.
    #[sea_orm(column_type = "Text", nullable)]
    pub auto_review: Option<String>,
    pub notice_acknowledged_version: Option<i32>,
    pub notice_acknowledged_at: Option<DateTimeUtc>,
    pub uscc: Option<String>,
    pub enterprise_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
