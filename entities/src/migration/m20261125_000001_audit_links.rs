//! Seals the audit trail without rewriting its rows. The chain's links move
//! from two columns of `audit_events` (set by an `UPDATE` of every event, a
//! full new copy of a wide row with three index entries, because the
//! sequence column was indexed) to a narrow `audit_links` table the sealer
//! appends to. New events reach the sealer through `audit_pending`, filled
//! by the statement that inserts them, so writers make no extra round trip.
//! Existing links and the unsealed backlog are carried over.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Instances of the previous release must be stopped first: they
        // write the columns dropped here. The lock (PostgreSQL runs a
        // migration in a transaction; SQLite has one writer) makes sure no
        // event is sealed or committed between the two copies below.
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared("LOCK TABLE audit_chain, audit_events IN EXCLUSIVE MODE").await?;
        }
        // No foreign keys: a link must outlive a deleted event, so that the
        // deletion shows when the chain is walked.
        m.create_table(
            Table::create()
                .table("audit_links")
                .col(big_integer("seq").primary_key())
                .col(big_integer("event_id").unique_key())
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_table(Table::create().table("audit_pending").col(big_integer("event_id").primary_key()).to_owned())
            .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO audit_links (seq, event_id, hash) \
             SELECT chain_seq, id, chain_hash FROM audit_events WHERE chain_seq IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO audit_pending (event_id) SELECT id FROM audit_events WHERE chain_seq IS NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX audit_events_unsealed").await?;
        m.drop_index(Index::drop().name("audit_events_chain_seq").table("audit_events").to_owned()).await?;
        m.alter_table(Table::alter().table("audit_events").drop_column("chain_hash").to_owned()).await?;
        m.alter_table(Table::alter().table("audit_events").drop_column("chain_seq").to_owned()).await?;
        // PostgreSQL: the store queues events in the inserting statement
        // itself (`WITH … INSERT … RETURNING`), which costs less there than
        // any trigger. SQLite has no data-modifying CTEs, and its triggers
        // run in-process.
        if m.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared(
                "CREATE TRIGGER audit_events_pending AFTER INSERT ON audit_events \
                 BEGIN INSERT INTO audit_pending (event_id) VALUES (NEW.id); END",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared("DROP TRIGGER audit_events_pending").await?;
        }
        m.alter_table(Table::alter().table("audit_events").add_column(big_integer_null("chain_seq")).to_owned())
            .await?;
        m.alter_table(Table::alter().table("audit_events").add_column(string_null("chain_hash")).to_owned()).await?;
        db.execute_unprepared(
            "UPDATE audit_events SET \
             chain_seq = (SELECT l.seq FROM audit_links l WHERE l.event_id = audit_events.id), \
             chain_hash = (SELECT l.hash FROM audit_links l WHERE l.event_id = audit_events.id)",
        )
        .await?;
        m.create_index(
            Index::create().name("audit_events_chain_seq").table("audit_events").col("chain_seq").unique().to_owned(),
        )
        .await?;
        db.execute_unprepared("CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE chain_seq IS NULL")
            .await?;
        m.drop_table(Table::drop().table("audit_pending").to_owned()).await?;
        m.drop_table(Table::drop().table("audit_links").to_owned()).await
    }
}
