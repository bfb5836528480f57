//! Operations endpoints: liveness, readiness, Prometheus metrics.
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    payload::{Json, PlainText},
};

use super::ApiTags;
use crate::{
    error::{Code, Error, Result},
    state::AppState,
};

#[derive(Debug, Object)]
pub struct Health {
    pub status: String,
}

#[derive(ApiResponse)]
enum MetricsText {
    /// Prometheus text exposition format.
    #[oai(status = 200, content_type = "text/plain; version=0.0.4")]
    Ok(PlainText<String>),
}

pub struct OpsApi;

#[OpenApi(tag = "ApiTags::Operations")]
impl OpsApi {
    /// Liveness: the process serves requests
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Json<Health> {
        Json(Health { status: "ok".into() })
    }

    /// Readiness: the database answers
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> Result<Json<Health>> {
        state.db.ping().await.map_err(|e| Error { retry_after: Some(1), ..Error::internal(e) }).map_err(|mut e| {
            e.code = Code::Unavailable;
            e
        })?;
        Ok(Json(Health { status: "ready".into() }))
    }

    /// Request counts and latencies by operation and status
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> MetricsText {
        MetricsText::Ok(PlainText(super::metrics::render()))
    }
}
