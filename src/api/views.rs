//! Shared pieces of responses: pagination and opaque cursors.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    domain::FieldError,
    error::{Error, Result},
};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// Clamps `?limit=` into 1..=100.
pub fn limit(l: Option<u64>) -> Result<u64> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::validation(vec![FieldError::new("limit", "invalid_value").with("detail", "1..=100")])),
    }
}

/// Cursors are opaque to clients: base64url of an internal position.
pub fn encode_cursor(raw: &str) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode_cursor(c: Option<&str>) -> Result<Option<String>> {
    let Some(c) = c.filter(|c| !c.is_empty()) else { return Ok(None) };
    URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| String::from_utf8(b).ok()).map(Some).ok_or_else(|| {
        Error::validation(vec![
            FieldError::new("cursor", "invalid_value").with("detail", "not a cursor this API issued"),
        ])
    })
}

pub fn bad_cursor() -> Error {
    Error::validation(vec![FieldError::new("cursor", "invalid_value").with("detail", "not a cursor this API issued")])
}
