//! The reviewer's queue and one-step decisions.
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    ApiTags,
    applications::{ApplicationPage, ApplicationView, StatusWire},
    body::JsonBody,
    security::BearerAuth,
    views::{self, bad_cursor},
};
use crate::{
    error::Result,
    i18n::Lang,
    services::{
        self,
        review::{Decision, FieldComment, QueueQuery},
    },
    state::AppState,
};

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DecisionWire {
    Approve,
    /// Final; a reason is required.
    Reject,
    /// Back to the applicant for correction, with field comments.
    Return,
}

#[derive(Debug, Object, Deserialize)]
pub struct FieldCommentInput {
    pub field: String,
    pub comment: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct DecisionRequest {
    pub decision: DecisionWire,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub reason: Option<String>,
    #[oai(default)]
    #[serde(default)]
    pub field_comments: Vec<FieldCommentInput>,
}

pub struct ReviewApi;

#[OpenApi(tag = "ApiTags::Reviewer")]
impl ReviewApi {
    /// The review queue
    ///
    /// Applications of the reviewer's registration authority, oldest
    /// submission first, each with its `due_at`. `overdue=true` keeps only
    /// those past their time limit.
    #[oai(path = "/api/v1/review/applications", method = "get", operation_id = "review_queue")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        status: Query<Option<StatusWire>>,
        overdue: Query<Option<bool>>,
        limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ApplicationPage>> {
        let p = auth.reviewer()?;
        let after = views::decode_cursor(cursor.0.as_deref())?
            .map(|c| {
                let (t, id) = c.split_once('|').ok_or_else(bad_cursor)?;
                let t = DateTime::parse_from_rfc3339(t).map_err(|_| bad_cursor())?.with_timezone(&Utc);
                Ok::<_, crate::error::Error>((t, id.parse::<Uuid>().map_err(|_| bad_cursor())?))
            })
            .transpose()?;
        let q = QueueQuery {
            status: status.0.unwrap_or(StatusWire::Submitted).into(),
            overdue: overdue.0,
            after,
            limit: views::limit(limit.0)?,
        };
        let (recs, next) = services::review::queue(&state, p, q).await?;
        let now = state.now();
        Ok(Json(ApplicationPage {
            items: recs.iter().map(|r| ApplicationView::new(r, p, now, lang)).collect(),
            next_cursor: next.map(|(t, id)| views::encode_cursor(&format!("{}|{id}", t.to_rfc3339()))),
        }))
    }

    /// Decide an application
    ///
    /// Approve (issues the code and licence in the same transaction), reject
    /// (final, with reasons) or return for correction (with field comments).
    #[oai(path = "/api/v1/review/applications/:id/decision", method = "post", operation_id = "decide_application")]
    async fn decide(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
        body: JsonBody<DecisionRequest>,
    ) -> Result<Json<ApplicationView>> {
        let p = auth.reviewer()?;
        let req = body.0;
        let decision = match req.decision {
            DecisionWire::Approve => Decision::Approve,
            DecisionWire::Reject => Decision::Reject,
            DecisionWire::Return => Decision::Return,
        };
        let comments =
            req.field_comments.into_iter().map(|c| FieldComment { field: c.field, comment: c.comment }).collect();
        let rec = services::review::decide(&state, p, id.0, decision, req.reason, comments).await?;
        Ok(Json(ApplicationView::new(&rec, p, state.now(), lang)))
    }
}
