//! greenchannel's schema: one sea-orm entity module per table, and the
//! [`migration::Migrator`] that creates them.
//!
//! Enums are stored as strings and ids as UUIDs so the same migrations run on
//! SQLite (the embedded default) and PostgreSQL (production).

pub mod migration;

pub mod address;
pub mod address_host;
pub mod api_key;
pub mod application;
pub mod application_party;
pub mod audit_event;
pub mod channel;
pub mod code_sequence;
pub mod delivery_attempt;
pub mod department;
pub mod deregistration_notice;
pub mod display_url;
pub mod enterprise;
pub mod enterprise_event;
pub mod idempotency_key;
pub mod licence_version;
pub mod material;
pub mod name_record;
pub mod notification;
pub mod objection;
pub mod occupancy;
pub mod outbox_message;
pub mod platform;
pub mod premises;
pub mod restriction;
pub mod session;
pub mod signature;
pub mod signing_key;
pub mod used_assertion;
pub mod watch;

pub use migration::Migrator;
pub use sea_orm_migration::MigratorTrait;
