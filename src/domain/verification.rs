//! What a verification answers: the rule that turns a credential (or a code
//! and name) and the enterprise's live standing into one result value.
use super::credential::{Claims, shop_binding};

/// The result values of API.md, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Valid,
    NameMismatch,
    Deregistered,
    Revoked,
    Superseded,
    NotFound,
    InvalidSignature,
    NotDisplayedHere,
    Malformed,
}

impl Verdict {
    pub const ALL: [Verdict; 9] = [
        Verdict::Valid,
        Verdict::NameMismatch,
        Verdict::Deregistered,
        Verdict::Revoked,
        Verdict::Superseded,
        Verdict::NotFound,
        Verdict::InvalidSignature,
        Verdict::NotDisplayedHere,
        Verdict::Malformed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::NameMismatch => "name_mismatch",
            Verdict::Deregistered => "deregistered",
            Verdict::Revoked => "revoked",
            Verdict::Superseded => "superseded",
            Verdict::NotFound => "not_found",
            Verdict::InvalidSignature => "invalid_signature",
            Verdict::NotDisplayedHere => "not_displayed_here",
            Verdict::Malformed => "malformed",
        }
    }
}

/// The live facts a verdict depends on.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    /// `active`, `deregistered`, `revoked`.
    pub status: &'a str,
    pub licence_version: i32,
    /// Normalised name (see [`super::name::normalize`]); `None` if unnamed.
    pub name_key: Option<&'a str>,
    /// Normalised shop URLs where the licence may be displayed, sorted.
    pub display_urls: &'a [String],
}

impl Standing<'_> {
    fn status_verdict(&self) -> Option<Verdict> {
        match self.status {
            "revoked" => Some(Verdict::Revoked),
            "deregistered" => Some(Verdict::Deregistered),
            _ => None,
        }
    }

    fn displayed_at(&self, shop: &str) -> bool {
        self.display_urls.binary_search_by(|u| u.as_str().cmp(shop)).is_ok()
    }
}

/// A credential whose signature has been checked (`signature_ok`), seen at
/// `shop` (normalised) when the verifier says where.
pub fn judge_credential(
    signature_ok: bool,
    claims: &Claims,
    standing: Option<Standing>,
    shop: Option<&str>,
) -> Verdict {
    if !signature_ok {
        return Verdict::InvalidSignature;
    }
    let Some(s) = standing else { return Verdict::NotFound };
    if let Some(v) = s.status_verdict() {
        return v;
    }
    if i32::from(claims.version) != s.licence_version {
        // A newer version than the register holds cannot have been issued.
        return if i32::from(claims.version) < s.licence_version { Verdict::Superseded } else { Verdict::NotFound };
    }
    if let Some(shop) = shop {
        let bound_elsewhere = claims.shop.is_some_and(|b| b != shop_binding(shop));
        if bound_elsewhere || !s.displayed_at(shop) {
            return Verdict::NotDisplayedHere;
        }
    }
    Verdict::Valid
}

/// A code and name as a shop shows them (`name_key` normalised; `None` when
/// the platform checks the code alone).
pub fn judge_code(standing: Option<Standing>, name_key: Option<&str>, shop: Option<&str>) -> Verdict {
    let Some(s) = standing else { return Verdict::NotFound };
    if let Some(v) = s.status_verdict() {
        return v;
    }
    if let Some(n) = name_key
        && s.name_key != Some(n)
    {
        return Verdict::NameMismatch;
    }
    if let Some(shop) = shop
        && !s.displayed_at(shop)
    {
        return Verdict::NotDisplayedHere;
    }
    Verdict::Valid
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::uscc::Uscc;

    const SHOP: &str = "https://shop.example.com/1";

    fn claims(version: u16, shop: Option<&str>) -> Claims {
        Claims {
            kid: 1,
            uscc: Uscc::parse("92610727MA0000007X").unwrap(),
            version,
            issued_at: Utc.timestamp_opt(1_790_000_000, 0).unwrap(),
            shop: shop.map(shop_binding),
        }
    }

    fn standing<'a>(status: &'a str, version: i32, urls: &'a [String]) -> Standing<'a> {
        Standing { status, licence_version: version, name_key: Some("略阳县某某网店"), display_urls: urls }
    }

    #[test]
    fn credential_verdicts_in_order() {
        let urls = vec![SHOP.to_string()];
        let ok = standing("active", 2, &urls);
        assert_eq!(judge_credential(false, &claims(2, None), Some(ok), None), Verdict::InvalidSignature);
        assert_eq!(judge_credential(true, &claims(2, None), None, None), Verdict::NotFound);
        assert_eq!(
            judge_credential(true, &claims(1, None), Some(standing("revoked", 2, &urls)), None),
            Verdict::Revoked
        );
        assert_eq!(
            judge_credential(true, &claims(2, None), Some(standing("deregistered", 2, &urls)), None),
            Verdict::Deregistered
        );
        assert_eq!(judge_credential(true, &claims(1, None), Some(ok), None), Verdict::Superseded);
        assert_eq!(judge_credential(true, &claims(3, None), Some(ok), None), Verdict::NotFound);
        assert_eq!(judge_credential(true, &claims(2, None), Some(ok), None), Verdict::Valid);
        assert_eq!(judge_credential(true, &claims(2, None), Some(ok), Some(SHOP)), Verdict::Valid);
        assert_eq!(judge_credential(true, &claims(2, Some(SHOP)), Some(ok), Some(SHOP)), Verdict::Valid);
        assert_eq!(
            judge_credential(true, &claims(2, None), Some(ok), Some("https://other.example.com/9")),
            Verdict::NotDisplayedHere,
            "undeclared shop"
        );
        let both = vec![SHOP.to_string(), "https://shop.example.com/2".to_string()];
        assert_eq!(
            judge_credential(
                true,
                &claims(2, Some(SHOP)),
                Some(standing("active", 2, &both)),
                Some("https://shop.example.com/2")
            ),
            Verdict::NotDisplayedHere,
            "a badge bound to one declared shop, copied to another"
        );
    }

    #[test]
    fn code_verdicts() {
        let urls = vec![SHOP.to_string()];
        let ok = standing("active", 1, &urls);
        assert_eq!(judge_code(None, Some("x"), None), Verdict::NotFound);
        assert_eq!(judge_code(Some(standing("revoked", 1, &urls)), Some("x"), None), Verdict::Revoked);
        assert_eq!(judge_code(Some(ok), Some("略阳县别家网店"), None), Verdict::NameMismatch);
        assert_eq!(judge_code(Some(ok), Some("略阳县某某网店"), None), Verdict::Valid);
        assert_eq!(judge_code(Some(ok), None, Some(SHOP)), Verdict::Valid);
        assert_eq!(judge_code(Some(ok), None, Some("https://x.example.com")), Verdict::NotDisplayedHere);
    }
}
