//! Pure registration rules: no I/O, no async. Everything here can be unit
//! tested with values alone, and a value of a type defined here is valid.

pub mod address;
pub mod admin_code;
pub mod application;
pub mod audit_chain;
pub mod auto_approval;
pub mod change;
pub mod credential;
pub mod divisions;
pub mod entity_type;
pub mod field_error;
pub mod form;
pub mod licence;
pub mod materials;
pub mod money;
pub mod name;
pub mod notification;
pub mod principal;
pub mod resident_id;
pub mod scope;
pub mod shop_url;
pub mod text;
pub mod uscc;
pub mod verification;
pub mod working_days;

pub use field_error::FieldError;

/// Serialises a parsed newtype as its string and re-parses it on the way in,
/// so stored JSON can only ever hold valid values.
macro_rules! string_serde {
    ($($t:ty),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&s).map_err(|e| serde::de::Error::custom(e.code))
            }
        }
    )*};
}

string_serde!(resident_id::ResidentId, admin_code::AdminCode, admin_code::TownshipCode, uscc::Uscc);

impl serde::Serialize for entity_type::EntityType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for entity_type::EntityType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        entity_type::EntityType::parse(&s).ok_or_else(|| serde::de::Error::custom("unknown entity type"))
    }
}
