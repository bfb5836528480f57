//! The credential in a licence's QR code: a compact payload signed with
//! Ed25519, so anyone can verify offline against the published keys, and
//! online verification adds live status.
//!
//! Binary layout (big-endian), 93 bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | format, `1` |
//! | 2 | key id |
//! | 12 | USCC: 18 characters × 5 bits (index in the code alphabet), zero-padded |
//! | 2 | licence version |
//! | 4 | issue time, Unix seconds |
//! | 8 | shop binding: first 8 bytes of SHA-256 of the normalised shop URL, or zeros |
//! | 64 | Ed25519 signature over `"greenchannel/credential/v1" ‖ bytes 0..29` |
//!
//! Encoded as RFC 4648 base32 (upper case, no padding): 149 characters that
//! QR codes store in alphanumeric mode and URLs carry unescaped.
use chrono::{DateTime, TimeZone, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::uscc::{ALPHABET, Uscc};

pub const FORMAT: u8 = 1;
const SIGNED_LEN: usize = 29;
pub const LEN: usize = SIGNED_LEN + 64;
const DOMAIN: &[u8] = b"greenchannel/credential/v1";

/// What a credential says, once parsed (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kid: u16,
    pub uscc: Uscc,
    pub version: u16,
    pub issued_at: DateTime<Utc>,
    /// `None`: valid wherever displayed.
    pub shop: Option<[u8; 8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub claims: Claims,
    signed: [u8; SIGNED_LEN],
    signature: [u8; 64],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Encoding,
    Length,
    Format,
    Code,
}

/// The 8-byte binding of a normalised shop URL.
pub fn shop_binding(normalised_url: &str) -> [u8; 8] {
    let d = Sha256::digest(normalised_url.as_bytes());
    d[..8].try_into().expect("8 bytes")
}

fn pack_uscc(code: &str) -> [u8; 12] {
    let mut bits: u128 = 0;
    for c in code.bytes() {
        let i = ALPHABET.iter().position(|&a| a == c).expect("valid code") as u128;
        bits = (bits << 5) | i;
    }
    bits <<= 96 - 90;
    bits.to_be_bytes()[4..].try_into().expect("12 bytes")
}

fn unpack_uscc(b: &[u8]) -> Option<Uscc> {
    let mut buf = [0u8; 16];
    buf[4..].copy_from_slice(b);
    let bits = u128::from_be_bytes(buf) >> 6;
    let mut out = [0u8; 18];
    for (k, slot) in out.iter_mut().enumerate() {
        let i = ((bits >> (5 * (17 - k))) & 31) as usize;
        *slot = *ALPHABET.get(i)?;
    }
    Uscc::parse(std::str::from_utf8(&out).ok()?).ok()
}

fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// Lower case is accepted: some scanners and browsers fold URLs.
fn unbase32(s: &str) -> Option<Vec<u8>> {
    if s.len() > 2 * LEN {
        return None;
    }
    data_encoding::BASE32_NOPAD.decode(s.to_ascii_uppercase().as_bytes()).ok()
}

/// Signs a credential. Deterministic: Ed25519 signatures are.
pub fn issue(key: &SigningKey, claims: &Claims) -> String {
    let mut signed = [0u8; SIGNED_LEN];
    signed[0] = FORMAT;
    signed[1..3].copy_from_slice(&claims.kid.to_be_bytes());
    signed[3..15].copy_from_slice(&pack_uscc(&claims.uscc));
    signed[15..17].copy_from_slice(&claims.version.to_be_bytes());
    signed[17..21].copy_from_slice(&(claims.issued_at.timestamp().clamp(0, i64::from(u32::MAX)) as u32).to_be_bytes());
    signed[21..29].copy_from_slice(&claims.shop.unwrap_or([0; 8]));
    let mut msg = DOMAIN.to_vec();
    msg.extend_from_slice(&signed);
    let sig = key.sign(&msg);
    let mut all = signed.to_vec();
    all.extend_from_slice(&sig.to_bytes());
    base32(&all)
}

/// Reads a credential, or the verification URL that carries it.
pub fn parse(input: &str) -> Result<Parsed, ParseError> {
    let s = input.trim();
    let s = s.rsplit('/').next().unwrap_or(s);
    let s = s.split(['?', '#']).next().unwrap_or(s);
    let bytes = unbase32(s).ok_or(ParseError::Encoding)?;
    if bytes.len() != LEN {
        return Err(ParseError::Length);
    }
    if bytes[0] != FORMAT {
        return Err(ParseError::Format);
    }
    let uscc = unpack_uscc(&bytes[3..15]).ok_or(ParseError::Code)?;
    let shop: [u8; 8] = bytes[21..29].try_into().expect("8 bytes");
    let claims = Claims {
        kid: u16::from_be_bytes([bytes[1], bytes[2]]),
        uscc,
        version: u16::from_be_bytes([bytes[15], bytes[16]]),
        issued_at: Utc
            .timestamp_opt(i64::from(u32::from_be_bytes(bytes[17..21].try_into().expect("4 bytes"))), 0)
            .single()
            .ok_or(ParseError::Format)?,
        shop: (shop != [0; 8]).then_some(shop),
    };
    Ok(Parsed {
        claims,
        signed: bytes[..SIGNED_LEN].try_into().expect("signed part"),
        signature: bytes[SIGNED_LEN..].try_into().expect("64 bytes"),
    })
}

impl Parsed {
    /// Whether `key` (the key its `kid` names) signed it.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        let mut msg = DOMAIN.to_vec();
        msg.extend_from_slice(&self.signed);
        key.verify(&msg, &Signature::from_bytes(&self.signature)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims(shop: Option<[u8; 8]>) -> Claims {
        Claims {
            kid: 3,
            uscc: Uscc::parse("92610727MA0000007X").unwrap(),
            version: 2,
            issued_at: Utc.timestamp_opt(1_790_000_000, 0).unwrap(),
            shop,
        }
    }

    #[test]
    fn a_credential_round_trips_and_verifies_with_its_key_only() {
        let c = claims(Some(shop_binding("https://shop.example.com/1")));
        let s = issue(&key(1), &c);
        assert_eq!(s.len(), 149);
        assert!(s.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        let p = parse(&s).unwrap();
        assert_eq!(p.claims, c);
        assert!(p.verify(&key(1).verifying_key()));
        assert!(!p.verify(&key(2).verifying_key()), "another key's signature does not verify");
        assert_eq!(issue(&key(1), &c), s, "deterministic");
        assert_eq!(parse(&format!("https://gc.example.gov.cn/v/{s}?x=1")).unwrap().claims, c);
    }

    #[test]
    fn any_tampering_breaks_it() {
        let s = issue(&key(1), &claims(None));
        let bytes = unbase32(&s).unwrap();
        for i in 0..LEN {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            if let Ok(p) = parse(&base32(&t)) {
                assert!(!p.verify(&key(1).verifying_key()), "byte {i} flipped still verifies");
            }
        }
    }

    #[test]
    fn junk_is_a_parse_error_not_a_panic() {
        for bad in ["", "abc", "!!!!", &"A".repeat(149), &"A".repeat(400), "0000"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn it_fits_qr_version_11_at_level_q_behind_a_long_origin() {
        let s = issue(&key(1), &claims(Some([7; 8])));
        let url = format!("https://greenchannel.samr.example.gov.cn/v/{s}");
        let qr = crate::documents::qr::encode(&url).unwrap();
        assert!(qr.version() <= 11, "version {}", qr.version());
    }
}
