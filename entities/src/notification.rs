//! Dual notification (双告知): a registration pushed to the department that
//! grants a permit its scope needs, then claimed and answered.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub uscc: String,
    pub application_id: Option<Uuid>,
    /// `establish`, `change`, `premises` or `deregister`.
    pub reason: String,
    pub scope_code: String,
    pub permit: String,
    pub department_kind: String,
    /// Where it was routed (admin code of the jurisdiction).
    pub jurisdiction: String,
    /// `None`: no department of that kind is configured there; any
    /// department of the jurisdiction may claim it.
    pub department_code: Option<String>,
    /// JSON: the record pushed.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// `pending`, `claimed`, `closed`.
    pub status: String,
    pub pushed_at: DateTimeUtc,
    pub claim_due_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    pub claimed_by: Option<String>,
    pub feedback_due_at: Option<DateTimeUtc>,
    /// `licensed`, `refused`, `not_required`.
    pub outcome: Option<String>,
    pub permit_no: Option<String>,
    pub valid_until: Option<Date>,
    pub feedback_reason: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
