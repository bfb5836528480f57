//! Use cases. Each public function that changes state opens one write
//! transaction and commits the change together with its audit event (and,
//! where others must hear of it, its outbox message), or nothing at all.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod delivery;
pub mod disclosure;
pub mod display;
pub mod enterprises;
pub mod events;
pub mod hosts;
pub mod idempotency;
pub mod issuance;
pub mod licence_documents;
pub mod materials;
pub mod names;
pub mod notices;
pub mod notifications;
pub mod places;
pub mod platforms;
pub mod premises;
pub mod registration;
pub mod review;
pub mod seed;
pub mod signing;
pub mod standing;
pub mod verification;
