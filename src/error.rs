//! The one error table: every stable `code` a client can receive, with its
//! HTTP status and title in both languages. Services raise [`Error`]s; the
//! API renders them as `application/problem+json` (`api::problem`).
use crate::{domain::FieldError, i18n::Lang};

macro_rules! codes {
    ($($variant:ident = ($code:literal, $status:literal, $zh:literal, $en:literal),)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            pub fn title(self, lang: Lang) -> &'static str {
                match self { $(Code::$variant => lang.pick($zh, $en),)* }
            }
        }
    };
}

codes! {
    MalformedJson = ("malformed_json", 400, "请求体不是有效的 JSON", "The request body is not valid JSON"),
    BadRequest = ("bad_request", 400, "请求无效", "The request is not valid"),
    Unauthorized = ("unauthorized", 401, "需要有效的登录凭证", "A valid credential is required"),
    UnknownChannel = ("unknown_channel", 401, "未注册的移动端渠道", "The mobile channel is not registered"),
    AssertionMalformed = ("assertion_malformed", 401, "身份断言格式无效", "The identity assertion is malformed"),
    AssertionSignatureInvalid = ("assertion_signature_invalid", 401, "身份断言签名无效", "The identity assertion's signature is invalid"),
    AssertionExpired = ("assertion_expired", 401, "身份断言已过期", "The identity assertion has expired"),
    AssertionLifetimeTooLong = ("assertion_lifetime_too_long", 401, "身份断言有效期超过10分钟", "The identity assertion is valid for more than 10 minutes"),
    AssertionReplayed = ("assertion_replayed", 401, "身份断言已被使用", "The identity assertion has already been used"),
    Forbidden = ("forbidden", 403, "当前身份无权执行此操作", "This role may not perform this operation"),
    NotFound = ("not_found", 404, "资源不存在", "Not found"),
    MethodNotAllowed = ("method_not_allowed", 405, "不支持该请求方法", "Method not allowed"),
    InvalidState = ("invalid_state", 409, "当前状态不允许此操作", "The current status does not allow this"),
    FormIncomplete = ("form_incomplete", 409, "申请表尚未填写完整", "The form is not complete"),
    SubmissionIncomplete = ("submission_incomplete", 409, "申请尚未满足提交条件", "The application is not ready to submit"),
    NameUnavailable = ("name_unavailable", 409, "名称不可用", "The name is not available"),
    PartyRestricted = ("party_restricted", 409, "当事人受信用限制", "A party is under a credit restriction"),
    Conflict = ("conflict", 409, "与现有记录冲突", "Conflicts with an existing record"),
    CapacityExhausted = ("capacity_exhausted", 409, "托管地址已无可用名额", "The hosted address has no places left"),
    PreconditionFailed = ("precondition_failed", 412, "版本已变更，请刷新后重试", "The version has changed; reload and retry"),
    PayloadTooLarge = ("payload_too_large", 413, "请求体过大", "The request body is too large"),
    UnsupportedMediaType = ("unsupported_media_type", 415, "不支持的内容类型", "Unsupported content type"),
    ValidationFailed = ("validation_failed", 422, "请求内容未通过校验", "The request did not pass validation"),
    AssertionClaimsInvalid = ("assertion_claims_invalid", 422, "身份断言中的信息无效", "The identity assertion carries invalid claims"),
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "幂等键已用于另一个请求", "The Idempotency-Key was used for a different request"),
    PreconditionRequired = ("precondition_required", 428, "需要 If-Match 版本号", "An If-Match version is required"),
    RateLimited = ("rate_limited", 429, "请求过于频繁", "Too many requests"),
    Internal = ("internal_error", 500, "服务器内部错误", "Internal server error"),
    Unavailable = ("service_unavailable", 503, "服务暂不可用", "Service unavailable"),
}

/// A failure a client should hear about: a code from the table, an optional
/// explanation, and the fields concerned.
#[derive(Debug)]
pub struct Error {
    pub code: Code,
    pub detail: Option<(String, String)>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    /// For 5xx: the cause, logged and never sent.
    pub source: Option<anyhow::Error>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code) -> Self {
        Self { code, detail: None, errors: Vec::new(), retry_after: None, source: None }
    }

    pub fn not_found() -> Self {
        Self::new(Code::NotFound)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors, ..Self::new(Code::ValidationFailed) }
    }

    pub fn field(code: Code, e: FieldError) -> Self {
        Self { errors: vec![e], ..Self::new(code) }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors.extend(errors);
        self
    }

    /// A sentence in both languages; the client gets the one it asked for.
    pub fn detail(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.detail = Some((zh.into(), en.into()));
        self
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self { source: Some(source.into()), ..Self::new(Code::Internal) }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(s) = &self.source {
            write!(f, ": {s:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        let unavailable = match &e {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => true,
            // The connection broke under a statement (database restart,
            // failover, a dropped connection): the transaction rolled back,
            // or for a cut-off commit is unknown, which an idempotency key
            // makes safe to retry.
            sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(s))
            | sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(s)) => {
                match &**s {
                    sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolClosed => true,
                    // SQLSTATE class 08 (connection exception), 57
                    // (operator intervention: 57P01 "terminating connection
                    // due to administrator command" on a restart) and 40
                    // (transaction rollback: a deadlock victim, a
                    // serialization failure), where the database has rolled
                    // the transaction back and the same request may succeed.
                    sea_orm::sqlx::Error::Database(d) => {
                        d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57") || c.starts_with("40"))
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        let mut err = Error::internal(e);
        if unavailable {
            err.code = Code::Unavailable;
            err.retry_after = Some(1);
        }
        err
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    use std::sync::Arc;

    #[test]
    fn a_broken_connection_is_a_retryable_503_and_other_database_errors_are_500() {
        let io = || Arc::new(sqlx::Error::Io(std::io::Error::other("connection reset")));
        for e in [DbErr::Query(RuntimeErr::SqlxError(io())), DbErr::Exec(RuntimeErr::SqlxError(io()))] {
            let err = Error::from(e);
            assert_eq!((err.code, err.retry_after), (Code::Unavailable, Some(1)));
        }
        let err = Error::from(DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound))));
        assert_eq!((err.code, err.retry_after), (Code::Internal, None));
    }

    /// A database error with only a SQLSTATE, as a driver reports one.
    #[derive(Debug)]
    struct State(&'static str);
    impl std::fmt::Display for State {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }
    impl std::error::Error for State {}
    impl sqlx::error::DatabaseError for State {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_rolled_back_transaction_is_a_retryable_503_and_a_constraint_is_not() {
        let with = |state| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Database(Box::new(State(state))))));
        // Deadlock victim, serialization failure, server shutting down.
        for state in ["40P01", "40001", "57P01", "08006"] {
            let err = Error::from(with(state));
            assert_eq!((err.code, err.retry_after), (Code::Unavailable, Some(1)), "{state}");
        }
        // Unique violation, check violation: the request itself is at fault.
        for state in ["23505", "23514"] {
            assert_eq!(Error::from(with(state)).code, Code::Internal, "{state}");
        }
    }

    #[test]
    fn codes_are_unique_snake_case_and_map_to_error_statuses() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!((400..600).contains(&c.status()));
            assert!(!c.title(Lang::ZhCn).is_empty() && !c.title(Lang::En).is_empty());
        }
    }
}
