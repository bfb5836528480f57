//! Departments, dual-notification records, the outbox and delivery attempts;
//! platforms, their watch-lists and the enterprise change feed.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("departments")
                .col(string("code").primary_key())
                .col(string("name"))
                .col(string("kind"))
                .col(string("admin_code"))
                .col(string_null("webhook_url"))
                .col(string_null("webhook_secret"))
                .col(integer("claim_days"))
                .col(integer("feedback_days"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_departments_route").table("departments").col("kind").col("admin_code").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("notifications")
                .col(uuid("id").primary_key())
                .col(uuid("enterprise_id"))
                .col(string("uscc"))
                .col(uuid_null("application_id"))
                .col(string("reason"))
                .col(string("scope_code"))
                .col(string("permit"))
                .col(string("department_kind"))
                .col(string("jurisdiction"))
                .col(string_null("department_code"))
                .col(text("payload"))
                .col(string("status"))
                .col(timestamp_with_time_zone("pushed_at"))
                .col(timestamp_with_time_zone("claim_due_at"))
                .col(timestamp_with_time_zone_null("claimed_at"))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone_null("feedback_due_at"))
                .col(string_null("outcome"))
                .col(string_null("permit_no"))
                .col(date_null("valid_until"))
                .col(text_null("feedback_reason"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_notifications_department", &["department_code", "status", "id"][..]),
            ("ix_notifications_pool", &["jurisdiction", "status", "id"][..]),
            ("ix_notifications_enterprise", &["enterprise_id"][..]),
        ] {
            let mut ix = Index::create().name(name).table("notifications").to_owned();
            for c in cols {
                ix.col(*c);
            }
            m.create_index(ix).await?;
        }
        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("delivery_id"))
                .col(string("topic"))
                .col(string("target_kind"))
                .col(string("target_id"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone_null("claim_expires_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_outbox_due").table("outbox").col("status").col("next_attempt_at").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("delivery_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("outbox_id"))
                .col(integer("attempt"))
                .col(string("instance"))
                .col(timestamp_with_time_zone("attempted_at"))
                .col(integer_null("status_code"))
                .col(text_null("error"))
                .col(integer("duration_ms"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_delivery_attempts_outbox").table("delivery_attempts").col("outbox_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("platforms")
                .col(string("id").primary_key())
                .col(string_null("webhook_url"))
                .col(string_null("webhook_secret"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("platform_watchlist")
                .col(string("platform_id"))
                .col(string("uscc"))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().col("platform_id").col("uscc"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_watchlist_uscc").table("platform_watchlist").col("uscc").to_owned())
            .await?;
        // The writing transaction's id on PostgreSQL (commit-safe paging);
        // 0 on SQLite, whose single writer commits in sequence order.
        let txid_default = match m.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "(pg_current_xact_id()::text::bigint)",
            _ => "0",
        };
        m.create_table(
            Table::create()
                .table("enterprise_events")
                .col(big_pk_auto("seq"))
                .col(ColumnDef::new("txid").big_integer().not_null().default(Expr::cust(txid_default)))
                .col(string("uscc"))
                .col(string("kind"))
                .col(text("detail"))
                .col(timestamp_with_time_zone("occurred_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_enterprise_events_order")
                .table("enterprise_events")
                .col("txid")
                .col("seq")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_enterprise_events_uscc")
                .table("enterprise_events")
                .col("uscc")
                .col("txid")
                .col("seq")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "enterprise_events",
            "platform_watchlist",
            "platforms",
            "delivery_attempts",
            "outbox",
            "notifications",
            "departments",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
