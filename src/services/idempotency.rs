//! `Idempotency-Key` for unsafe requests a phone may repeat after a dropped
//! connection: the first success is remembered inside its own transaction and
//! replayed verbatim; the same key with a different request is refused.
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

use crate::{
    error::{Code, Error, Result},
    store,
};

/// A key presented with a request, and the fingerprint of that request.
#[derive(Debug, Clone)]
pub struct Idem {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
}

/// The stored answer: status and JSON body.
#[derive(Debug, Clone)]
pub struct Replay {
    pub status: u16,
    pub body: String,
}

impl Idem {
    /// Keys are 1–255 visible ASCII characters (as in the IETF draft's examples).
    pub fn new(principal: String, key: &str, method: &str, path: &str, body: &[u8]) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::field(
                Code::BadRequest,
                crate::domain::FieldError::new("Idempotency-Key", "invalid_format")
                    .with("expected", "1-255 visible ASCII characters"),
            ));
        }
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(body);
        Ok(Self { principal, key: key.to_string(), request_hash: hex::encode(h.finalize()) })
    }

    /// The remembered answer, if this key was used before by this caller.
    pub async fn lookup(&self, db: &impl ConnectionTrait) -> Result<Option<Replay>> {
        match store::idempotency::find(db, &self.principal, &self.key).await? {
            Some(row) if row.request_hash != self.request_hash => Err(Error::new(Code::IdempotencyKeyReused)),
            Some(row) => Ok(Some(Replay { status: row.status as u16, body: row.body })),
            None => Ok(None),
        }
    }

    pub async fn remember(
        &self,
        db: &store::WriteTx,
        status: u16,
        body: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        store::idempotency::insert(db, &self.principal, &self.key, &self.request_hash, status, body, now).await?;
        Ok(())
    }
}
