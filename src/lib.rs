//! greenchannel: electronic business registration and licence display for a
//! market regulation bureau's e-commerce green channel.
//!
//! Layers, with dependencies pointing one way (`api → services → domain,
//! store → entities`):
//! - [`domain`]: pure rules (codes, names, forms, state machines);
//! - [`store`]: sea-orm queries, nothing else;
//! - [`services`]: use cases, each owning one transaction;
//! - [`api`]: poem-openapi operations, thin;
//! - [`startup`]: wiring a server from [`config::Settings`].

pub mod api;
pub mod cli;
pub mod config;
pub mod documents;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod services;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
