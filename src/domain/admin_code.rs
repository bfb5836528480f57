//! County-level administrative division codes (GB/T 2260): the registration
//! authorities, and the township codes under them.
use std::fmt;

use super::{divisions, field_error::FieldError, text};

/// A 6-digit code of a county-level division that exists in the embedded
/// 2023 table.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdminCode(String);

impl AdminCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = text::normalize_code(input);
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("", "invalid_format").with("expected", "6 digits"));
        }
        if divisions::county(&s).is_none() {
            return Err(FieldError::new("", "unknown_division"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn name(&self) -> &'static str {
        self.county().name
    }

    pub fn province_code(&self) -> &str {
        &self.0[..2]
    }

    pub fn city_code(&self) -> &str {
        &self.0[..4]
    }

    pub fn province_name(&self) -> &'static str {
        divisions::province_name(self.province_code()).unwrap_or_default()
    }

    /// `None` where the city level is a placeholder (municipalities).
    pub fn city_name(&self) -> Option<&'static str> {
        divisions::city_name(self.city_code())
    }

    /// "陕西省汉中市略阳县", "北京市东城区".
    pub fn full_name(&self) -> String {
        let mut s = String::from(self.province_name());
        if let Some(city) = self.city_name() {
            s.push_str(city);
        }
        s.push_str(self.name());
        s
    }

    /// Whether another county is this one, or shares its city (the level a
    /// city district's premises rules look at).
    pub fn same_city(&self, other: &AdminCode) -> bool {
        self.city_code() == other.city_code()
    }

    fn county(&self) -> &'static divisions::County {
        divisions::county(&self.0).expect("validated at parse")
    }
}

impl fmt::Display for AdminCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AdminCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminCode({})", self.0)
    }
}

/// A 9-digit township-level code (街道/镇/乡) and the county it belongs to.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TownshipCode(String);

impl TownshipCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = text::normalize_code(input);
        if s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("", "invalid_format").with("expected", "9 digits"));
        }
        if divisions::township(&s).is_none() {
            return Err(FieldError::new("", "unknown_division"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn name(&self) -> &'static str {
        divisions::township(&self.0).expect("validated").name
    }

    pub fn county(&self) -> AdminCode {
        AdminCode(self.0[..6].to_string())
    }

    /// "陕西省汉中市略阳县兴州街道".
    pub fn full_name(&self) -> String {
        format!("{}{}", self.county().full_name(), self.name())
    }
}

impl fmt::Debug for TownshipCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TownshipCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_knows_its_parents() {
        let c = AdminCode::parse("610727").unwrap();
        assert_eq!(c.name(), "略阳县");
        assert_eq!(c.city_name(), Some("汉中市"));
        assert_eq!(c.province_name(), "陕西省");
        assert_eq!(c.full_name(), "陕西省汉中市略阳县");
    }

    #[test]
    fn municipality_districts_skip_the_placeholder_city() {
        assert_eq!(AdminCode::parse("110101").unwrap().full_name(), "北京市东城区");
    }

    #[test]
    fn cities_provinces_and_unknown_codes_are_not_counties() {
        assert_eq!(AdminCode::parse("610700").unwrap_err().code, "unknown_division");
        assert_eq!(AdminCode::parse("610000").unwrap_err().code, "unknown_division");
        assert_eq!(AdminCode::parse("61072").unwrap_err().code, "invalid_format");
        assert_eq!(AdminCode::parse("６１０７２７").unwrap().as_str(), "610727");
    }

    #[test]
    fn townships_belong_to_their_county() {
        let t = TownshipCode::parse("610727001").unwrap();
        assert_eq!(t.county().as_str(), "610727");
        assert_eq!(t.full_name(), "陕西省汉中市略阳县兴州街道");
        assert!(TownshipCode::parse("610727999").is_err());
    }
}
