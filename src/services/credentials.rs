//! Bearer secrets (session tokens, API keys): random, shown once, stored as
//! SHA-256. They carry 256 bits of entropy, so a fast hash is enough: there
//! is nothing to brute-force, and lookups stay one indexed query.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Session tokens: `gcs_…`; API keys: `gck_…`. The prefix tells which table to look in.
pub const SESSION_PREFIX: &str = "gcs_";
pub const API_KEY_PREFIX: &str = "gck_";

pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_distinct_prefixed_and_hash_stably() {
        let a = generate(API_KEY_PREFIX);
        let b = generate(API_KEY_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("gck_") && a.len() == 4 + 43);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 64);
    }
}
