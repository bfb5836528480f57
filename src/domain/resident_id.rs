//! Citizen identity numbers (公民身份号码, GB 11643-1999): 6-digit division
//! code, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check.
use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::{divisions, field_error::FieldError, text};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// An 18-character resident ID whose structure, date and check digit are valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize] as char
}

impl ResidentId {
    /// Parses after trimming, converting full width and upper-casing `x`.
    /// Errors carry codes `invalid_length`, `invalid_character`,
    /// `invalid_division`, `invalid_birth_date`, `invalid_check_digit`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = text::normalize_code(input);
        let b = s.as_bytes();
        if s.chars().count() != 18 || b.len() != 18 {
            return Err(FieldError::new("", "invalid_length").with("expected", "18"));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(FieldError::new("", "invalid_character"));
        }
        // The division is the one at the time of issue; many have since been
        // merged away, so only the province is checked against today's list.
        if divisions::province_name(&s[..2]).is_none() || &s[2..6] == "0000" {
            return Err(FieldError::new("", "invalid_division"));
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").ok().filter(|d| (1850..=2100).contains(&d.year()));
        if birth.is_none() {
            return Err(FieldError::new("", "invalid_birth_date"));
        }
        if check_char(&b[..17]) != b[17] as char {
            return Err(FieldError::new("", "invalid_check_digit"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("validated at parse")
    }

    /// What public output may show: the first three and last four characters.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any stored ID number for display (also ones read back from storage).
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars[..3].iter().chain(std::iter::repeat_n(&'*', n - 7)).chain(&chars[n - 4..]).collect()
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ResidentId {
    /// Never the whole number in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked examples printed in GB 11643-1999 itself (annex), and the
    /// example in the Ministry of Public Security's explanation of the check.
    const PUBLISHED: [&str; 3] = ["11010519491231002X", "440524188001010014", "110102198001010017"];

    #[test]
    fn published_examples_are_valid() {
        for id in PUBLISHED {
            assert!(ResidentId::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn every_single_character_corruption_is_refused() {
        for id in PUBLISHED {
            for pos in 0..18 {
                for c in "0123456789X".chars() {
                    let mut v: Vec<char> = id.chars().collect();
                    if v[pos] == c {
                        continue;
                    }
                    v[pos] = c;
                    let bad: String = v.into_iter().collect();
                    assert!(ResidentId::parse(&bad).is_err(), "{bad} accepted");
                }
            }
        }
    }

    #[test]
    fn lower_case_x_and_full_width_digits_are_normalised() {
        assert_eq!(ResidentId::parse(" 11010519491231002x ").unwrap().as_str(), "11010519491231002X");
        assert_eq!(ResidentId::parse("４４０５２４１８８００１０１００１４").unwrap().as_str(), "440524188001010014");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(ResidentId::parse("1234").unwrap_err().code, "invalid_length");
        assert_eq!(ResidentId::parse("11010519491231002Y").unwrap_err().code, "invalid_character");
        assert_eq!(ResidentId::parse("990105194912310021").unwrap_err().code, "invalid_division");
        assert_eq!(ResidentId::parse("110105194913310021").unwrap_err().code, "invalid_birth_date");
        assert_eq!(ResidentId::parse("110105194912310021").unwrap_err().code, "invalid_check_digit");
    }

    #[test]
    fn masking_hides_birth_date_and_sequence() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }
}
