//! Tamper evidence for the audit trail: each sealed event's place in the
//! hash chain and its link hash, and the chain's head.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("audit_events").add_column(big_integer_null("chain_seq")).to_owned())
            .await?;
        m.alter_table(Table::alter().table("audit_events").add_column(string_null("chain_hash")).to_owned()).await?;
        m.create_index(
            Index::create().name("audit_events_chain_seq").table("audit_events").col("chain_seq").unique().to_owned(),
        )
        .await?;
        // The sealer's work list: unsealed events by id. Partial, so it stays
        // as small as the backlog (same syntax on SQLite and PostgreSQL).
        m.get_connection()
            .execute_unprepared("CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE chain_seq IS NULL")
            .await?;
        m.create_table(
            Table::create()
                .table("audit_chain")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string("hash"))
                .col(timestamp_with_time_zone_null("sealed_at"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(&format!("INSERT INTO audit_chain (id, seq, hash) VALUES (1, 0, '{}')", "0".repeat(64)))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_chain").to_owned()).await?;
        m.get_connection().execute_unprepared("DROP INDEX audit_events_unsealed").await?;
        m.drop_index(Index::drop().name("audit_events_chain_seq").table("audit_events").to_owned()).await?;
        m.alter_table(Table::alter().table("audit_events").drop_column("chain_hash").to_owned()).await?;
        m.alter_table(Table::alter().table("audit_events").drop_column("chain_seq").to_owned()).await
    }
}
