//! Shared addresses, address hosts, occupancies and premises; host keys.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("addresses")
                .col(uuid("id").primary_key())
                .col(string("township_code"))
                .col(string("county_code"))
                .col(string("detail"))
                .col(string("canonical"))
                .col(uuid_null("parent_id"))
                .col(integer_null("unit_no"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_addresses_canonical")
                .table("addresses")
                .col("township_code")
                .col("canonical")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("address_hosts")
                .col(uuid("id").primary_key())
                .col(string("name"))
                .col(uuid("address_id"))
                .col(integer("capacity"))
                .col(text("entity_types"))
                .col(text("industries"))
                .col(string("status"))
                .col(string_null("contact"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("occupancies")
                .col(uuid("id").primary_key())
                .col(uuid("address_id"))
                .col(uuid_null("host_id"))
                .col(integer_null("unit_no"))
                .col(uuid_null("enterprise_id"))
                .col(uuid_null("application_id"))
                .col(string("role"))
                .col(string("state"))
                .col(boolean("residence"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            // Counting (concentration, capacity) and listing in id order.
            ("ix_occupancies_address", &["address_id", "state"][..]),
            ("ix_occupancies_address_list", &["address_id", "id"][..]),
            ("ix_occupancies_host", &["host_id", "state"][..]),
            ("ix_occupancies_host_list", &["host_id", "id"][..]),
            ("ix_occupancies_enterprise", &["enterprise_id", "state"][..]),
            ("ix_occupancies_application", &["application_id"][..]),
        ] {
            let mut ix = Index::create().name(name).table("occupancies").to_owned();
            for c in cols {
                ix.col(*c);
            }
            m.create_index(ix).await?;
        }
        m.create_table(
            Table::create()
                .table("premises")
                .col(uuid("id").primary_key())
                .col(uuid_null("enterprise_id"))
                .col(uuid_null("application_id"))
                .col(string("kind"))
                .col(string_null("platform"))
                .col(string_null("url"))
                .col(uuid_null("address_id"))
                .col(uuid_null("occupancy_id"))
                .col(boolean("registered"))
                .col(text("activities"))
                .col(string("state"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("removed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_premises_enterprise")
                .table("premises")
                .col("enterprise_id")
                .col("state")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_premises_application").table("premises").col("application_id").to_owned(),
        )
        .await?;
        // One live enterprise (or pending application) per shop URL. Partial
        // unique indexes read the same on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_premises_live_url ON premises (url) WHERE url IS NOT NULL AND state <> 'removed'")
            .await?;
        m.alter_table(Table::alter().table("api_keys").add_column(uuid_null("host_id")).to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("api_keys").drop_column("host_id").to_owned()).await?;
        for t in ["premises", "occupancies", "address_hosts", "addresses"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
