//! The one validation error type the domain speaks: a field path, a stable
//! code, and the values a message may quote. Localised text is the API's job.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the offending input, e.g. `parties[0].id_number`.
    pub field: String,
    /// Stable machine code, e.g. `invalid_check_digit`.
    pub code: &'static str,
    /// Extra facts for the message (rule, allowed values, limits), in order.
    pub params: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), code, params: Vec::new() }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.params.push((key, value.into()));
        self
    }

    /// Prefix the field path, for errors raised by a nested parser.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// Collects errors so a form reports everything wrong with it at once
/// (一次性告知), not one field per round trip.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Keep the value if it parsed, record the error otherwise.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() { Ok(value()) } else { Err(self.0) }
    }
}
