//! Schema migrations, applied in order by `greenchannel migrate` and at
//! `serve` start-up. A released migration is never edited: add a new one.
use sea_orm_migration::prelude::*;

mod m20261122_000001_create_core;
mod m20261123_000001_add_registration_records;
mod m20261123_000002_add_addresses;
mod m20261123_000003_add_notifications;
mod m20261123_000004_add_licence_display;
mod m20261124_000001_add_audit_chain;
mod m20261124_000002_add_name_industry_index;
mod m20261125_000001_audit_links;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_core::Migration),
            Box::new(m20261123_000001_add_registration_records::Migration),
            Box::new(m20261123_000002_add_addresses::Migration),
            Box::new(m20261123_000003_add_notifications::Migration),
            Box::new(m20261123_000004_add_licence_display::Migration),
            Box::new(m20261124_000001_add_audit_chain::Migration),
            Box::new(m20261124_000002_add_name_industry_index::Migration),
            Box::new(m20261125_000001_audit_links::Migration),
        ]
    }
}
