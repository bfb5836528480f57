//! Licensing departments: pushed registrations, claim, feedback; and the
//! admin side (directory, overdue report, webhook deliveries).
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    ApiTags,
    body::JsonBody,
    security::BearerAuth,
    views::{self, bad_cursor},
};
use crate::{
    error::{Error, Result},
    services::{
        self,
        notifications::{Feedback, ListQuery, NewDepartment},
    },
    state::AppState,
    store::{notifications::Row, outbox},
};

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    Pending,
    Claimed,
    Closed,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FeedbackOutcome {
    /// The permit was granted: `permit_no` (and `valid_until`) required.
    Licensed,
    /// Refused: `reason` required.
    Refused,
    /// No permit is needed for this business.
    NotRequired,
}

#[derive(Debug, Object)]
pub struct NotificationView {
    pub id: Uuid,
    pub uscc: String,
    /// `establish`, `change`, `premises` or `deregister`.
    pub reason: String,
    pub scope_code: String,
    pub permit: String,
    pub department_kind: String,
    pub jurisdiction: String,
    /// Null: in the unassigned pool of the jurisdiction.
    #[oai(nullable)]
    pub department_code: Option<String>,
    /// `pending`, `claimed` or `closed`.
    pub status: String,
    pub overdue: bool,
    pub pushed_at: DateTime<Utc>,
    pub claim_due_at: DateTime<Utc>,
    #[oai(nullable)]
    pub claimed_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub feedback_due_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub outcome: Option<String>,
    #[oai(nullable)]
    pub permit_no: Option<String>,
    #[oai(nullable)]
    pub valid_until: Option<NaiveDate>,
    #[oai(nullable)]
    pub feedback_reason: Option<String>,
    /// The record pushed: the enterprise, the item, the department.
    pub record: serde_json::Value,
}

impl NotificationView {
    fn new(r: Row, now: DateTime<Utc>) -> Self {
        NotificationView {
            overdue: services::notifications::is_overdue(&r, now),
            record: serde_json::from_str(&r.payload).unwrap_or_default(),
            id: r.id,
            uscc: r.uscc,
            reason: r.reason,
            scope_code: r.scope_code,
            permit: r.permit,
            department_kind: r.department_kind,
            jurisdiction: r.jurisdiction,
            department_code: r.department_code,
            status: r.status,
            pushed_at: r.pushed_at,
            claim_due_at: r.claim_due_at,
            claimed_at: r.claimed_at,
            feedback_due_at: r.feedback_due_at,
            outcome: r.outcome,
            permit_no: r.permit_no,
            valid_until: r.valid_until,
            feedback_reason: r.feedback_reason,
        }
    }
}

#[derive(Debug, Object)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
pub struct FeedbackInput {
    pub outcome: FeedbackOutcome,
    #[serde(default)]
    pub permit_no: Option<String>,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    /// As the catalogue's `department_kind`.
    pub kind: String,
    /// Jurisdiction: a county code, a city (`xxxx00`), a province (`xx0000`) or `000000`.
    pub admin_code: String,
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// At least 16 bytes; signs every webhook delivery (HMAC-SHA256).
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// Working days to claim (default 5).
    #[serde(default)]
    pub claim_days: Option<i32>,
    /// Working days from claim to feedback (default 20).
    #[serde(default)]
    pub feedback_days: Option<i32>,
}

#[derive(Debug, Object)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub admin_code: String,
    #[oai(nullable)]
    pub webhook_url: Option<String>,
    pub claim_days: i32,
    pub feedback_days: i32,
}

impl From<crate::store::notifications::DepartmentRow> for DepartmentView {
    fn from(d: crate::store::notifications::DepartmentRow) -> Self {
        DepartmentView {
            code: d.code,
            name: d.name,
            kind: d.kind,
            admin_code: d.admin_code,
            webhook_url: d.webhook_url,
            claim_days: d.claim_days,
            feedback_days: d.feedback_days,
        }
    }
}

#[derive(Debug, Object)]
pub struct OverdueRow {
    /// The department code, or `pool:<jurisdiction>` for unassigned ones.
    pub department: String,
    #[oai(nullable)]
    pub name: Option<String>,
    pub overdue_claims: u64,
    pub overdue_feedback: u64,
}

#[derive(Debug, Object)]
pub struct AttemptView {
    pub attempt: i32,
    pub instance: String,
    pub attempted_at: DateTime<Utc>,
    #[oai(nullable)]
    pub status_code: Option<i32>,
    #[oai(nullable)]
    pub error: Option<String>,
    pub duration_ms: i32,
}

#[derive(Debug, Object)]
pub struct DeliveryView {
    pub id: i64,
    pub delivery_id: Uuid,
    pub topic: String,
    pub target_kind: String,
    pub target_id: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_empty)]
    pub attempt_log: Vec<AttemptView>,
}

impl DeliveryView {
    fn new(r: outbox::Row, attempts: Vec<outbox::AttemptRow>) -> Self {
        DeliveryView {
            id: r.id,
            delivery_id: r.delivery_id,
            topic: r.topic,
            target_kind: r.target_kind,
            target_id: r.target_id,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            attempt_log: attempts
                .into_iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    instance: a.instance,
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
}

#[derive(ApiResponse)]
enum DepartmentSaved {
    #[oai(status = 201)]
    Created(Json<DepartmentView>),
}

pub struct DepartmentApi;

#[OpenApi]
impl DepartmentApi {
    /// Pushed registrations for this department
    ///
    /// Its own notifications and the unassigned pool of its jurisdiction,
    /// filtered by status, overdue and push date.
    #[oai(
        path = "/api/v1/department/notifications",
        method = "get",
        operation_id = "list_notifications",
        tag = "ApiTags::Department"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<NotificationStatus>>,
        overdue: Query<Option<bool>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<NotificationPage>> {
        auth.department()?;
        let after = views::decode_cursor(cursor.0.as_deref())?
            .map(|c| c.parse::<Uuid>().map_err(|_| bad_cursor()))
            .transpose()?;
        let status = status.0.map(|s| match s {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Claimed => "claimed",
            NotificationStatus::Closed => "closed",
        });
        let (rows, next) = services::notifications::list(
            &state,
            &auth.0,
            ListQuery {
                status: status.map(String::from),
                overdue: overdue.0,
                since: since.0,
                until: until.0,
                after,
                limit: views::limit(limit.0)?,
            },
        )
        .await?;
        let now = state.now();
        Ok(Json(NotificationPage {
            items: rows.into_iter().map(|r| NotificationView::new(r, now)).collect(),
            next_cursor: next.map(|n| views::encode_cursor(&n.to_string())),
        }))
    }

    /// Claim a pushed registration (认领)
    #[oai(
        path = "/api/v1/department/notifications/:id/claim",
        method = "post",
        operation_id = "claim_notification",
        tag = "ApiTags::Department"
    )]
    async fn claim(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<NotificationView>> {
        auth.department()?;
        let row = services::notifications::claim(&state, &auth.0, id.0).await?;
        Ok(Json(NotificationView::new(row, state.now())))
    }

    /// Report back: licensed, refused or not required
    #[oai(
        path = "/api/v1/department/notifications/:id/feedback",
        method = "post",
        operation_id = "notification_feedback",
        tag = "ApiTags::Department"
    )]
    async fn feedback(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: JsonBody<FeedbackInput>,
    ) -> Result<Json<NotificationView>> {
        auth.department()?;
        let f = body.0;
        let outcome = match f.outcome {
            FeedbackOutcome::Licensed => "licensed",
            FeedbackOutcome::Refused => "refused",
            FeedbackOutcome::NotRequired => "not_required",
        };
        let row = services::notifications::feedback(
            &state,
            &auth.0,
            id.0,
            Feedback { outcome: outcome.into(), permit_no: f.permit_no, valid_until: f.valid_until, reason: f.reason },
        )
        .await?;
        Ok(Json(NotificationView::new(row, state.now())))
    }

    /// Register or update a licensing department
    #[oai(
        path = "/api/v1/admin/departments",
        method = "post",
        operation_id = "upsert_department",
        tag = "ApiTags::Admin"
    )]
    async fn upsert(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<DepartmentInput>,
    ) -> Result<DepartmentSaved> {
        let admin = auth.admin()?;
        let d = body.0;
        let row = services::notifications::upsert_department(
            &state,
            &admin.actor(),
            NewDepartment {
                code: d.code,
                name: d.name,
                kind: d.kind,
                admin_code: d.admin_code,
                webhook_url: d.webhook_url,
                webhook_secret: d.webhook_secret,
                claim_days: d.claim_days,
                feedback_days: d.feedback_days,
            },
        )
        .await?;
        Ok(DepartmentSaved::Created(Json(row.into())))
    }

    /// The department directory
    #[oai(
        path = "/api/v1/admin/departments",
        method = "get",
        operation_id = "list_departments",
        tag = "ApiTags::Admin"
    )]
    async fn departments(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<Json<Vec<DepartmentView>>> {
        auth.admin()?;
        Ok(Json(crate::store::notifications::departments(state.db.conn()).await?.into_iter().map(Into::into).collect()))
    }

    /// Overdue notifications by department
    #[oai(
        path = "/api/v1/admin/reports/overdue-notifications",
        method = "get",
        operation_id = "overdue_notifications_report",
        tag = "ApiTags::Admin"
    )]
    async fn overdue(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<Json<Vec<OverdueRow>>> {
        auth.admin()?;
        let rows = services::notifications::overdue_report(&state).await?;
        Ok(Json(
            rows.into_iter()
                .map(|(department, name, c, f)| OverdueRow { department, name, overdue_claims: c, overdue_feedback: f })
                .collect(),
        ))
    }

    /// Outbound webhook deliveries
    #[oai(path = "/api/v1/admin/deliveries", method = "get", operation_id = "list_deliveries", tag = "ApiTags::Admin")]
    async fn deliveries(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<DeliveryStatus>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<DeliveryPage>> {
        auth.admin()?;
        let after = views::decode_cursor(cursor.0.as_deref())?
            .map(|c| c.parse::<i64>().map_err(|_| bad_cursor()))
            .transpose()?;
        let status = status.0.map(|s| match s {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        });
        let limit = views::limit(limit.0)?;
        let rows = outbox::list(state.db.conn(), status, after, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        let rows: Vec<outbox::Row> = rows.into_iter().take(limit as usize).collect();
        let next = if more { rows.last().map(|r| views::encode_cursor(&r.id.to_string())) } else { None };
        Ok(Json(DeliveryPage {
            items: rows.into_iter().map(|r| DeliveryView::new(r, vec![])).collect(),
            next_cursor: next,
        }))
    }

    /// One delivery with every attempt
    #[oai(path = "/api/v1/admin/deliveries/:id", method = "get", operation_id = "get_delivery", tag = "ApiTags::Admin")]
    async fn delivery(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<i64>) -> Result<Json<DeliveryView>> {
        auth.admin()?;
        let row = outbox::find(state.db.conn(), id.0).await?.ok_or_else(Error::not_found)?;
        let attempts = outbox::attempts(state.db.conn(), id.0).await?;
        Ok(Json(DeliveryView::new(row, attempts)))
    }

    /// Retry a dead delivery
    #[oai(
        path = "/api/v1/admin/deliveries/:id/retry",
        method = "post",
        operation_id = "retry_delivery",
        tag = "ApiTags::Admin"
    )]
    async fn retry(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<i64>) -> Result<Json<DeliveryView>> {
        let admin = auth.admin()?;
        let row = services::notifications::retry_delivery(&state, &admin.actor(), id.0).await?;
        Ok(Json(DeliveryView::new(row, vec![])))
    }
}
