//! Amounts in yuan, written on the wire as decimal strings ("100000.00") and
//! held as whole fen so sums are exact.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::field_error::FieldError;

/// A non-negative amount below 10^13 yuan.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(i64);

impl Money {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = super::text::to_half_width(input.trim());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let ok = !int.is_empty()
            && int.len() <= 13
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 2
            && frac.bytes().all(|b| b.is_ascii_digit())
            && !(s.contains('.') && frac.is_empty());
        if !ok {
            return Err(FieldError::new("", "invalid_amount").with("expected", "decimal yuan, e.g. 100000.00"));
        }
        let whole: i64 = int.parse().map_err(|_| FieldError::new("", "invalid_amount"))?;
        let cents: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
        Ok(Self(whole * 100 + cents))
    }

    pub fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// "100000.00".
    pub fn to_decimal(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// The licence's wording: "壹拾万元整" style is for paper; e-licences print "10万元人民币".
    pub fn to_licence_text(self) -> String {
        if self.0 % 100 == 0 && (self.0 / 100) % 10_000 == 0 {
            format!("{}万元人民币", self.0 / 100 / 10_000)
        } else {
            format!("{}元人民币", self.to_decimal())
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.to_decimal())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Money::parse(&s).map_err(|e| serde::de::Error::custom(e.code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_round_trip_exactly() {
        assert_eq!(Money::parse("100000.00").unwrap().fen(), 10_000_000);
        assert_eq!(Money::parse("0.5").unwrap().to_decimal(), "0.50");
        assert_eq!(Money::parse("３００").unwrap().to_decimal(), "300.00");
        assert_eq!(Money::parse("100000").unwrap().to_licence_text(), "10万元人民币");
        assert_eq!(Money::parse("1234.5").unwrap().to_licence_text(), "1234.50元人民币");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in ["", "-1", "1.234", "1e5", "1,000", "1.", ".5", "abc", "99999999999999"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
    }
}
