//! Unified social credit codes (统一社会信用代码, GB 32100-2015) and the
//! organization codes inside them (GB 11714-1997).
//!
//! Layout: `[authority][category][division×6][organization code×9][check]`.
use std::fmt;

use super::{admin_code::AdminCode, field_error::FieldError, text};

/// The 31 characters a code may use (no I, O, S, V, Z).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const GB11714_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn alphabet_index(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|i| i as u32)
}

/// GB 32100 position 18: weights 3^i mod 31.
pub fn check_char(first17: &[u8]) -> Option<char> {
    let mut w = 1u32;
    let mut sum = 0u32;
    for &c in first17 {
        sum += alphabet_index(c)? * w;
        w = w * 3 % 31;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize] as char)
}

/// GB 11714 check character of an 8-character organization-code body.
pub fn org_check_char(body: &[u8]) -> Option<char> {
    if body.len() != 8 {
        return None;
    }
    let mut sum = 0u32;
    for (&c, w) in body.iter().zip(GB11714_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).expect("1..=9"),
    })
}

/// The entity categories greenchannel registers, under authority `9`
/// (market regulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// `1`: enterprises (companies, sole proprietorships).
    Enterprise,
    /// `2`: individual businesses (个体工商户).
    IndividualBusiness,
    /// `3`: farmers' specialised cooperatives.
    FarmersCooperative,
}

impl Category {
    fn digit(self) -> char {
        match self {
            Category::Enterprise => '1',
            Category::IndividualBusiness => '2',
            Category::FarmersCooperative => '3',
        }
    }
}

/// A code whose length, alphabet and final check character are valid.
/// Eighteen ASCII bytes held inline: verification caches keep one per
/// credential and per enterprise, and a heap string each was measurable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc([u8; 18]);

/// Something true of a valid code that an integrator may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Positions 9–17 fail the GB 11714 check. Some real bodies (new "MA…"
    /// allocations by other authorities) are assigned differently, so this is
    /// not fatal for codes issued elsewhere.
    OrganizationCodeCheck,
}

impl Uscc {
    /// Parses a code from outside (normalising width and case). The final
    /// check is a hard rule; the GB 11714 check is reported by [`Uscc::warnings`].
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = text::normalize_code(input);
        let b = s.as_bytes();
        if b.len() != 18 || s.chars().count() != 18 {
            return Err(FieldError::new("", "invalid_length").with("expected", "18"));
        }
        if !b.iter().all(|&c| alphabet_index(c).is_some()) {
            return Err(FieldError::new("", "invalid_character"));
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new("", "invalid_division"));
        }
        if check_char(&b[..17]) != Some(b[17] as char) {
            return Err(FieldError::new("", "invalid_check_digit"));
        }
        Ok(Self(b.try_into().expect("18 bytes")))
    }

    /// Builds the code greenchannel issues: authority 9, the category, the
    /// registering county, an 8-character body and both check characters.
    /// `body` must use the code alphabet; it comes from [`org_body`].
    pub fn issue(category: Category, authority: &AdminCode, body: &str) -> Self {
        let org = format!("{body}{}", org_check_char(body.as_bytes()).expect("8-char body"));
        let first17 = format!("9{}{}{}", category.digit(), authority.as_str(), org);
        let check = check_char(first17.as_bytes()).expect("alphabet characters");
        Self(format!("{first17}{check}").as_bytes().try_into().expect("18 characters"))
    }

    pub fn warnings(&self) -> Vec<Warning> {
        let b = &self.0;
        if org_check_char(&b[8..16]) == Some(b[16] as char) { vec![] } else { vec![Warning::OrganizationCodeCheck] }
    }

    pub fn as_str(&self) -> &str {
        // Only code-alphabet (ASCII) bytes are ever stored.
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// The 18 bytes, for keys that are compared without parsing again.
    pub fn bytes(&self) -> &[u8; 18] {
        &self.0
    }

    /// The county code of the authority that issued it (not today's address).
    pub fn division(&self) -> &str {
        &self.as_str()[2..8]
    }
}

/// The body for the n-th code of a county and category: `MA` followed by n in
/// base 31 over the code alphabet (887 million per county and category).
pub fn org_body(n: u64) -> String {
    let mut digits = [b'0'; 6];
    let mut v = n;
    for d in digits.iter_mut().rev() {
        *d = ALPHABET[(v % 31) as usize];
        v /= 31;
    }
    assert!(v == 0, "sequence exhausted for this authority");
    format!("MA{}", std::str::from_utf8(&digits).expect("ascii"))
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.as_str())
    }
}

impl std::ops::Deref for Uscc {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes published on the enterprises' own licences and in the national
    /// enterprise credit publicity system: Alibaba (China) Co., Tencent
    /// (Shenzhen), Huawei Technologies, Xiaomi Communications, Bank of China.
    const PUBLISHED: [&str; 5] =
        ["91330100799655058B", "9144030071526726XG", "914403001922038216", "91110108551385082Q", "911000001000013428"];

    #[test]
    fn published_codes_pass_both_checks() {
        for code in PUBLISHED {
            let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e:?}"));
            assert!(u.warnings().is_empty(), "{code}");
        }
    }

    #[test]
    fn every_single_character_corruption_fails_the_final_check() {
        for code in PUBLISHED {
            for pos in 0..18 {
                for &c in ALPHABET {
                    let mut v = code.as_bytes().to_vec();
                    if v[pos] == c {
                        continue;
                    }
                    v[pos] = c;
                    let bad = String::from_utf8(v).unwrap();
                    assert!(Uscc::parse(&bad).is_err(), "{bad} accepted");
                }
            }
        }
    }

    /// GB 11714 is mod 11 over values 0..=35, so swapping a character for one
    /// whose value differs by a multiple of 11 (`0`↔`B`, `1`↔`C`…) goes
    /// unnoticed by it; every other single corruption is caught. The GB 32100
    /// final check above catches those too.
    #[test]
    fn single_character_corruptions_of_the_organization_code_fail_gb11714_except_mod_11_twins() {
        let value = |c: u8| if c.is_ascii_digit() { i32::from(c - b'0') } else { i32::from(c - b'A') + 10 };
        for code in PUBLISHED {
            let org = &code.as_bytes()[8..17];
            for pos in 0..8 {
                for c in (b'0'..=b'9').chain(b'A'..=b'Z') {
                    if org[pos] == c {
                        continue;
                    }
                    let mut v = org.to_vec();
                    v[pos] = c;
                    let caught = org_check_char(&v[..8]) != Some(v[8] as char);
                    let twin = (value(c) - value(org[pos])) % 11 == 0;
                    assert_eq!(caught, !twin, "{}", String::from_utf8(v).unwrap());
                }
            }
            for c in b"0123456789X" {
                if *c != org[8] {
                    assert_ne!(org_check_char(&org[..8]), Some(*c as char));
                }
            }
        }
    }

    #[test]
    fn issued_codes_are_valid_and_distinct() {
        let county = AdminCode::parse("610727").unwrap();
        let mut seen = std::collections::HashSet::new();
        for n in [0, 1, 30, 31, 961, 887_503_680] {
            let u = Uscc::issue(Category::IndividualBusiness, &county, &org_body(n));
            let again = Uscc::parse(u.as_str()).unwrap();
            assert!(again.warnings().is_empty(), "{u}");
            assert!(u.as_str().starts_with("92610727MA"));
            assert!(seen.insert(u));
        }
    }

    #[test]
    fn input_is_normalised_and_errors_are_named() {
        assert_eq!(Uscc::parse(" ９１３３０１００７９９６５５０５８ｂ ").unwrap().as_str(), "91330100799655058B");
        assert_eq!(Uscc::parse("9133").unwrap_err().code, "invalid_length");
        assert_eq!(Uscc::parse("91330100799655058I").unwrap_err().code, "invalid_character");
        assert_eq!(Uscc::parse("91330100799655058C").unwrap_err().code, "invalid_check_digit");
    }
}
