//! JSON request bodies parsed with serde so every failure names its field
//! (`parties[0].roles[1]`), capped in size, and typed in the spec.
use std::marker::PhantomData;

use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, ResponseContent,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use crate::{
    domain::FieldError,
    error::{Code, Error},
    state::AppState,
};

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application" && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
}

/// Turns a serde error at `path` into the problem the client sees.
fn json_error(path: String, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    let field = if path == "." || path == "?" { String::new() } else { path };
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::field(
            Code::MalformedJson,
            FieldError::new(field, "malformed_json")
                .with("line", e.line().to_string())
                .with("column", e.column().to_string()),
        )
        .detail(format!("第 {} 行第 {} 列：{e}", e.line(), e.column()), e.to_string()),
        Category::Data => {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let (field, code) = if let Some(rest) = msg.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or_default();
                (if field.is_empty() { name.to_string() } else { format!("{field}.{name}") }, "required")
            } else if msg.starts_with("invalid type") {
                (field, "invalid_type")
            } else {
                (field, "invalid_value")
            };
            Error::validation(vec![FieldError::new(field, code).with("detail", msg)])
        }
    }
}

/// Parses bytes as `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::field(Code::MalformedJson, FieldError::new("", "malformed_json"))
            .detail("请求体不是有效的 UTF-8", "The body is not valid UTF-8"));
    }
    // Syntax first, then shape: serde_json reports a wrong type for an enum
    // as a syntax error when streaming, but as a type error from a `Value`.
    let tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| json_error(String::new(), &e))?;
    let mut nul = Vec::new();
    find_nul(&tree, String::new(), &mut nul);
    if !nul.is_empty() {
        return Err(Error::validation(nul));
    }
    serde_path_to_error::deserialize(tree).map_err(|e| json_error(e.path().to_string(), e.inner()))
}

/// Strings holding NUL (`\u0000`), by path: no text column can store one
/// (PostgreSQL refuses it), so they are refused here for every body.
fn find_nul(v: &serde_json::Value, path: String, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => out.push(FieldError::new(path, "invalid_character")),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, x)| find_nul(x, format!("{path}[{i}]"), out)),
        Value::Object(m) => {
            for (k, x) in m {
                let at = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if k.contains('\0') {
                    out.push(FieldError::new(at, "invalid_character"));
                } else {
                    find_nul(x, at, out);
                }
            }
        }
        _ => {}
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Reads the whole body, refusing more than the configured cap.
pub async fn read_limited(req: &Request, body: &mut RequestBody) -> Result<Vec<u8>, Error> {
    let limit = req.data::<AppState>().map(|s| s.settings.max_body_bytes).unwrap_or(1024 * 1024);
    read_limited_to(req, body, limit).await
}

/// Reads the whole body, refusing more than `limit` bytes (413) before or
/// while reading.
pub async fn read_limited_to(req: &Request, body: &mut RequestBody, limit: usize) -> Result<Vec<u8>, Error> {
    let too_large = || {
        Error::new(Code::PayloadTooLarge)
            .detail(format!("请求体不得超过 {limit} 字节"), format!("The body may not exceed {limit} bytes"))
    };
    if let Some(len) =
        req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    let body = body.take().map_err(|_| Error::new(Code::BadRequest))?;
    body.into_bytes_limit(limit).await.map(|b| b.to_vec()).map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => too_large(),
        _ => Error::new(Code::BadRequest).detail("读取请求体失败", "Could not read the body"),
    })
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(req: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_limited(req, body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::field(Code::ValidationFailed, FieldError::new("", "required"))
                .detail("缺少请求体", "A JSON body is required")
                .into());
        }
        Ok(JsonBody(parse_json(&bytes)?))
    }
}

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: "application/json", schema: T::schema_ref() }],
            required: true,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match req.content_type() {
            Some(ct) if is_json(ct) => <Self as ParsePayload>::from_request(req, body).await,
            Some(ct) => Err(Error::new(Code::UnsupportedMediaType)
                .detail(
                    format!("不支持 {ct}，请使用 application/json"),
                    format!("{ct} is not supported; use application/json"),
                )
                .into()),
            None => Err(Error::new(Code::UnsupportedMediaType)
                .detail("缺少 Content-Type: application/json", "Content-Type: application/json is required")
                .into()),
        }
    }
}

/// A JSON response whose body was rendered earlier (an idempotent replay, or
/// a cached document), documented in the spec as `T`.
pub struct PrecomputedJson<T> {
    body: String,
    _t: PhantomData<fn() -> T>,
}

impl<T> PrecomputedJson<T> {
    pub fn new(body: String) -> Self {
        Self { body, _t: PhantomData }
    }
}

impl<T: Type> Payload for PrecomputedJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for PrecomputedJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type("application/json; charset=utf-8").body(self.body)
    }
}

impl<T: Type + Send> poem_openapi::ApiResponse for PrecomputedJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: <Self as ResponseContent>::media_types(),
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Party {
        name: String,
        roles: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Form {
        kind: String,
        parties: Vec<Party>,
    }

    #[test]
    fn errors_name_the_exact_field() {
        let e = parse_json::<Form>(br#"{"kind":"x","parties":[{"name":"a","roles":[1]}]}"#).unwrap_err();
        assert_eq!(e.code, Code::ValidationFailed);
        assert_eq!(e.errors[0].field, "parties[0].roles[0]");
        assert_eq!(e.errors[0].code, "invalid_type");
        let e = parse_json::<Form>(br#"{"kind":"x","parties":[{"roles":[]}]}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "parties[0].name");
        assert_eq!(e.errors[0].code, "required");
        let e = parse_json::<Form>(br#"{"parties":[]}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "kind");
    }

    #[test]
    fn syntax_errors_and_bad_utf8_are_malformed_json() {
        assert_eq!(parse_json::<Form>(br#"{"kind": "#).unwrap_err().code, Code::MalformedJson);
        assert_eq!(parse_json::<Form>(b"{\"kind\": \"\xff\"}").unwrap_err().code, Code::MalformedJson);
        let deep = "[".repeat(10_000);
        assert_eq!(parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err().code, Code::MalformedJson);
    }

    #[test]
    fn nul_in_any_string_is_refused_naming_its_path() {
        let e = parse_json::<Form>(br#"{"kind":"x\u0000","parties":[{"name":"a\u0000","roles":[]}]}"#).unwrap_err();
        assert_eq!(e.code, Code::ValidationFailed);
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["kind", "parties[0].name"]);
        assert!(e.errors.iter().all(|f| f.code == "invalid_character"));
    }
}
