//! One black-box test binary: every test starts the real server on
//! 127.0.0.1:0 with a fresh database and talks HTTP to it.
mod helpers;

mod access;
mod auth;
mod contract;
pub mod crash;
mod errors;
mod faults;
mod hostile;
mod matrix;
mod notifications;
mod operations;
mod places;
mod receiver;
mod registration;
mod slice;
mod tamper;
mod verification;
mod writes;
