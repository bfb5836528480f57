//! Prometheus metrics: request counts and latency histograms labelled by
//! operation id (not raw path, so cardinality stays bounded) and status;
//! and the access log, written from the same measurements.
use std::{sync::OnceLock, time::Instant};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (tests start many servers).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            )
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn render() -> String {
    install().render()
}

pub struct MetricsMiddleware;

impl<E: Endpoint> Middleware<E> for MetricsMiddleware {
    type Output = MetricsEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        MetricsEndpoint(ep)
    }
}

pub struct MetricsEndpoint<E>(E);

impl<E: Endpoint> Endpoint for MetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let start = Instant::now();
        let method = req.method().to_string();
        // The path only: never headers (bearer tokens) nor the query.
        // (A `Uri` clone shares its bytes: no allocation per request.)
        let uri = req.uri().clone();
        let resp = self.0.call(req).await?.into_response();
        let op = resp.data::<poem_openapi::OperationId>().map(|o| o.0).unwrap_or("other");
        let code = resp.status().as_u16();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        // Successes at debug: tens of thousands of verifications a second
        // should not cost a log line each unless asked for.
        match code {
            500.. => tracing::error!(%method, path = uri.path(), operation = op, status = code, ms, "request"),
            400..=499 => tracing::info!(%method, path = uri.path(), operation = op, status = code, ms, "request"),
            _ => tracing::debug!(%method, path = uri.path(), operation = op, status = code, ms, "request"),
        }
        let status = code.to_string();
        let labels = [("operation", op.to_string()), ("method", method), ("status", status)];
        metrics::counter!("http_requests_total", &labels).increment(1);
        metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
        Ok(resp)
    }
}
