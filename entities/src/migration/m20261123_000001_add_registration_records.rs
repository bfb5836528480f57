//! Materials, credit restrictions, simplified-deregistration notices and
//! objections; enterprise deregistration and revocation columns.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("materials")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(string("kind"))
                .col(string("media_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(string_null("filename"))
                .col(ColumnDef::new("content").custom(Alias::new(blob_type(m))).not_null())
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_materials_application").table("materials").col("application_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("restrictions")
                .col(uuid("id").primary_key())
                .col(string("subject_kind"))
                .col(string("subject_key"))
                .col(string_null("subject_name"))
                .col(text("reason"))
                .col(string("source"))
                .col(date("listed_on"))
                .col(date_null("expires_on"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("lifted_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_restrictions_subject").table("restrictions").col("subject_key").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("deregistration_notices")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(uuid("enterprise_id"))
                .col(string("uscc"))
                .col(string_null("name"))
                .col(string("entity_type"))
                .col(string("authority"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_dereg_notices_status")
                .table("deregistration_notices")
                .col("status")
                .col("starts_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_dereg_notices_application")
                .table("deregistration_notices")
                .col("application_id")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("objections")
                .col(uuid("id").primary_key())
                .col(uuid("notice_id"))
                .col(string("objector_name"))
                .col(string_null("objector_contact"))
                .col(text("reason"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        for (col, ty) in [("deregistered_at", true), ("revoked_at", true), ("revocation_reason", false)] {
            let c = if ty { timestamp_with_time_zone_null(col) } else { string_null(col) };
            m.alter_table(Table::alter().table("enterprises").add_column(c).to_owned()).await?;
        }
        m.create_index(
            Index::create().name("ix_name_records_trade_name_only").table("name_records").col("trade_name").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["objections", "deregistration_notices", "restrictions", "materials"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for c in ["deregistered_at", "revoked_at", "revocation_reason"] {
            m.alter_table(Table::alter().table("enterprises").drop_column(c).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ix_name_records_trade_name_only").table("name_records").to_owned()).await
    }
}

/// Binary large objects: `bytea` on PostgreSQL, `blob` on SQLite.
fn blob_type(m: &SchemaManager) -> &'static str {
    match m.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "bytea",
        _ => "blob",
    }
}
