//! Every 4xx/5xx leaves as `application/problem+json` (RFC 9457), in the
//! language the client asked for. Handlers return [`crate::error::Error`];
//! [`ProblemMiddleware`] also converts what the framework raises itself
//! (unknown routes, wrong methods, bad parameters, missing auth, panics).
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, http::StatusCode};
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};
use serde::Serialize;

use crate::{
    domain::FieldError,
    error::{Code, Error},
    i18n::{Lang, field_message},
};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details document.
#[derive(Debug, Object, Serialize)]
pub struct Problem {
    /// `/problems/<code>`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary in the requested language.
    pub title: String,
    pub status: u16,
    /// What happened, in the requested language.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code.
    pub code: String,
    /// The fields concerned, each with its own code and message.
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Object, Serialize)]
pub struct ProblemField {
    /// JSON path of the offending input, e.g. `parties[0].id_number`.
    pub field: String,
    pub code: String,
    pub message: String,
    /// Facts behind the message (rule, limits, the conflicting name…);
    /// absent when there are none.
    #[oai(default, skip_serializing_if_is_empty)]
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

fn to_problem(e: &Error, lang: Lang) -> Problem {
    Problem {
        kind: format!("/problems/{}", e.code.as_str()),
        title: e.code.title(lang).to_string(),
        status: e.code.status(),
        detail: e.detail.as_ref().map(|(zh, en)| lang.pick(zh, en).to_string()),
        code: e.code.as_str().to_string(),
        errors: e
            .errors
            .iter()
            .map(|f: &FieldError| ProblemField {
                field: f.field.clone(),
                code: f.code.to_string(),
                message: field_message(f, lang),
                params: f
                    .params
                    .iter()
                    .filter(|(k, _)| *k != "detail" || lang == Lang::En)
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            })
            .collect(),
    }
}

/// Renders an error for a client speaking `lang`; logs 5xx causes.
pub fn render(e: &Error, lang: Lang) -> Response {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        match &e.source {
            Some(src) => tracing::error!(code = e.code.as_str(), error = format!("{src:#}"), "request failed"),
            None => tracing::error!(code = e.code.as_str(), "request failed"),
        }
    }
    let body = serde_json::to_vec(&to_problem(e, lang)).unwrap_or_default();
    let mut resp =
        Response::builder().status(status).content_type(PROBLEM_JSON).header("Content-Language", lang.tag()).body(body);
    if let Some(s) = e.retry_after {
        resp.headers_mut().insert("Retry-After", s.into());
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert("WWW-Authenticate", poem::http::HeaderValue::from_static("Bearer"));
    }
    resp
}

/// The statuses every operation may answer with, as documented in the spec.
const DOCUMENTED: &[(u16, &str)] = &[
    (400, "Malformed request (e.g. invalid JSON, bad header)"),
    (401, "Missing, invalid or expired credential"),
    (403, "The caller's role may not perform this operation"),
    (404, "Not found, or outside the caller's scope"),
    (409, "The current state does not allow this (names the missing steps)"),
    (412, "If-Match names a stale version"),
    (413, "Body too large"),
    (415, "Unsupported content type"),
    (422, "Validation failed (names each field)"),
    (428, "If-Match required"),
    (429, "Rate limited (see Retry-After)"),
    (500, "Internal error"),
    (503, "Temporarily unavailable (see Retry-After)"),
];

impl ApiResponse for Error {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType { content_type: PROBLEM_JSON, schema: Problem::schema_ref() }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Carried(Error);

impl From<Error> for poem::Error {
    fn from(e: Error) -> poem::Error {
        let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        poem::Error::new(Carried(e), status)
    }
}

impl poem::error::ResponseError for Carried {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn as_response(&self) -> Response {
        render(&self.0, Lang::default())
    }
}

/// Maps what the framework raises to our table.
fn classify(err: &poem::Error) -> Error {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };
    if let Some(p) = err.downcast_ref::<ParseParamError>() {
        return Error::validation(vec![FieldError::new(p.name, "invalid_value").with("detail", p.reason.clone())]);
    }
    if let Some(p) = err.downcast_ref::<ParsePathError>() {
        return Error::validation(vec![FieldError::new("path", "invalid_value").with("detail", p.reason.clone())]);
    }
    if err.is::<AuthorizationError>() {
        return Error::new(Code::Unauthorized);
    }
    if let Some(c) = err.downcast_ref::<ContentTypeError>() {
        return Error::new(Code::UnsupportedMediaType)
            .detail("请使用 application/json", format!("{c}; use application/json"));
    }
    if let Some(p) = err.downcast_ref::<ParseRequestPayloadError>() {
        return Error::new(Code::BadRequest).detail(p.reason.clone(), p.reason.clone());
    }
    match err.status() {
        StatusCode::NOT_FOUND => Error::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => Error::new(Code::MethodNotAllowed),
        StatusCode::UNAUTHORIZED => Error::new(Code::Unauthorized),
        StatusCode::FORBIDDEN => Error::new(Code::Forbidden),
        StatusCode::PAYLOAD_TOO_LARGE => Error::new(Code::PayloadTooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::new(Code::UnsupportedMediaType),
        StatusCode::TOO_MANY_REQUESTS => Error::new(Code::RateLimited),
        StatusCode::SERVICE_UNAVAILABLE => Error::new(Code::Unavailable),
        s if s.is_client_error() => Error::new(Code::BadRequest).detail(err.to_string(), err.to_string()),
        _ => Error::internal(anyhow::anyhow!("{err}")),
    }
}

/// What the framework would otherwise mangle quietly: a path segment or
/// query value whose percent-decoded bytes are not UTF-8 (it substitutes
/// U+FFFD) or hold NUL (no text column can store it), and an operation's
/// header parameter that is not visible ASCII (it treats the header as
/// absent, so a retry would lose its `Idempotency-Key`). Refused, named.
fn undecodable(req: &Request) -> Option<Error> {
    // A URI is ASCII: without an escape there is nothing to check (the
    // common case, kept free of allocation on the hottest paths).
    let text = |raw: &str, plus_is_space: bool| {
        if !raw.contains('%') {
            return Some(());
        }
        let bytes = percent_decode(raw.as_bytes(), plus_is_space);
        std::str::from_utf8(&bytes).is_ok_and(|s| !s.contains('\0')).then_some(())
    };
    let bad = |field: String| {
        Error::field(
            Code::BadRequest,
            FieldError::new(field, "invalid_character").with("detail", "not UTF-8 text, or holds NUL"),
        )
    };
    if req.uri().path().split('/').any(|segment| text(segment, false).is_none()) {
        return Some(bad("path".into()));
    }
    for pair in req.uri().query().unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if text(name, true).is_none() || text(value, true).is_none() {
            return Some(bad(String::from_utf8_lossy(&percent_decode(name.as_bytes(), true)).into_owned()));
        }
    }
    for header in ["Idempotency-Key", "If-Match"] {
        if req.headers().get_all(header).iter().any(|v| v.to_str().is_err()) {
            return Some(Error::field(
                Code::BadRequest,
                FieldError::new(header, "invalid_format").with("expected", "visible ASCII characters"),
            ));
        }
    }
    None
}

/// `%XX` to its byte (and `+` to a space in a query), leaving anything else.
fn percent_decode(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Outermost middleware: renders every error as problem+json in the
/// request's language, and turns a panic into a 500 without leaking it.
pub struct ProblemMiddleware;

impl<E: Endpoint> Middleware<E> for ProblemMiddleware {
    type Output = ProblemEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ProblemEndpoint(ep)
    }
}

pub struct ProblemEndpoint<E>(E);

impl<E: Endpoint> Endpoint for ProblemEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let lang = Lang::from_accept_language(req.headers().get("accept-language").and_then(|v| v.to_str().ok()));
        if let Some(e) = undecodable(&req) {
            return Ok(render(&e, lang));
        }
        let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(self.0.call(req))).await;
        let outcome = match result {
            Ok(r) => r,
            Err(_) => return Ok(render(&Error::internal(anyhow::anyhow!("handler panicked")), lang)),
        };
        Ok(match outcome {
            Ok(resp) => resp.into_response(),
            Err(err) => {
                let carried_data = err.data::<poem_openapi::OperationId>().copied();
                let mut resp = match err.downcast_ref::<Carried>() {
                    Some(Carried(e)) => render(e, lang),
                    None => render(&classify(&err), lang),
                };
                if let Some(op) = carried_data {
                    resp.set_data(op);
                }
                resp
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode(b"a%20b+c", true), b"a b c");
        assert_eq!(percent_decode(b"a+b", false), b"a+b");
        assert_eq!(percent_decode(b"%FF%fe", false), [0xff, 0xfe]);
        for raw in ["%", "%4", "a%zz", "100%"] {
            assert_eq!(percent_decode(raw.as_bytes(), true), raw.as_bytes(), "{raw}");
        }
    }

    #[test]
    fn undecodable_paths_queries_and_headers_are_named() {
        let field = |req: Request| undecodable(&req).map(|e| e.errors[0].field.clone());
        assert_eq!(field(Request::builder().uri_str("/api/v1/verify/%E4%BD%A0?q=%E4%BD%A0").finish()), None);
        assert_eq!(field(Request::builder().uri_str("/api/v1/verify/%FF%FE").finish()).as_deref(), Some("path"));
        assert_eq!(field(Request::builder().uri_str("/x?limit=1&q=a%00b").finish()).as_deref(), Some("q"));
        assert_eq!(field(Request::builder().uri_str("/x?q=%C3").finish()).as_deref(), Some("q"));
        let req = Request::builder().uri_str("/x").header("Idempotency-Key", &b"\x80\xff"[..]).finish();
        assert_eq!(field(req).as_deref(), Some("Idempotency-Key"));
    }
}
