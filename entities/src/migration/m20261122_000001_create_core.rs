//! Identity, applications, enterprises, licences, names, audit.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}
fn ts_null(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("channels")
                .col(string("id").primary_key())
                .col(string("name"))
                .col(string("algorithm"))
                .col(text("key_material"))
                .col(ts("created_at"))
                .col(ts_null("disabled_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("used_assertions")
                .col(string("channel_id"))
                .col(string("jti"))
                .col(ts("expires_at"))
                .primary_key(Index::create().col("channel_id").col("jti"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(uuid("id").primary_key())
                .col(string_uniq("token_hash"))
                .col(string("channel_id"))
                .col(string("subject"))
                .col(string("id_number"))
                .col(string("name"))
                .col(string_null("phone"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("api_keys")
                .col(uuid("id").primary_key())
                .col(string_uniq("key_hash"))
                .col(string("key_prefix"))
                .col(string("role"))
                .col(string("name"))
                .col(string_null("authority"))
                .col(string_null("department_code"))
                .col(string_null("platform_id"))
                .col(ts("created_at"))
                .col(ts_null("expires_at"))
                .col(ts_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("applications")
                .col(uuid("id").primary_key())
                .col(string("kind"))
                .col(string("entity_type"))
                .col(string("authority"))
                .col(string("status"))
                .col(integer("version"))
                .col(string_null("name"))
                .col(text("form"))
                .col(string("form_digest"))
                .col(string("applicant_id_number"))
                .col(string("applicant_name"))
                .col(string("channel_id"))
                .col(string_null("target_uscc"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("submitted_at"))
                .col(ts_null("due_at"))
                .col(ts_null("decided_at"))
                .col(string_null("decided_by"))
                .col(uuid_null("reviewer_key_id"))
                .col(text_null("decision_reason"))
                .col(text_null("field_comments"))
                .col(text_null("auto_review"))
                .col(integer_null("notice_acknowledged_version"))
                .col(ts_null("notice_acknowledged_at"))
                .col(string_null("uscc"))
                .col(uuid_null("enterprise_id"))
                .to_owned(),
        )
        .await?;
        index(m, "applications", "ix_applications_applicant", &["applicant_id_number", "created_at"]).await?;
        index(m, "applications", "ix_applications_queue", &["authority", "status", "submitted_at"]).await?;
        m.create_table(
            Table::create()
                .table("application_parties")
                .col(uuid("application_id"))
                .col(string("id_number"))
                .col(string("name"))
                .col(string("roles"))
                .primary_key(Index::create().col("application_id").col("id_number"))
                .to_owned(),
        )
        .await?;
        index(m, "application_parties", "ix_application_parties_person", &["id_number"]).await?;
        m.create_table(
            Table::create()
                .table("signatures")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(integer("version"))
                .col(string("id_number"))
                .col(string("name"))
                .col(string("digest"))
                .col(string("channel_id"))
                .col(uuid("session_id"))
                .col(ts("signed_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "signatures", "ux_signatures_party_version", &["application_id", "version", "id_number"]).await?;
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("principal"))
                .col(string("key"))
                .col(string("request_hash"))
                .col(integer("status"))
                .col(text("body"))
                .col(ts("created_at"))
                .primary_key(Index::create().col("principal").col("key"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_pk_auto("id"))
                .col(ts("occurred_at"))
                .col(string("actor_role"))
                .col(string("actor_id"))
                .col(string_null("channel"))
                .col(string("action"))
                .col(string("subject_type"))
                .col(string("subject_id"))
                .col(integer_null("before_version"))
                .col(integer_null("after_version"))
                .col(text("detail"))
                .to_owned(),
        )
        .await?;
        index(m, "audit_events", "ix_audit_events_subject", &["subject_type", "subject_id"]).await?;
        m.create_table(
            Table::create()
                .table("enterprises")
                .col(uuid("id").primary_key())
                .col(string_uniq("uscc"))
                .col(string_null("name"))
                .col(string("entity_type"))
                .col(string("status"))
                .col(boolean("abnormal"))
                .col(string_null("abnormal_reason"))
                .col(ts_null("abnormal_since"))
                .col(string("authority"))
                .col(date("established_on"))
                .col(integer("licence_version"))
                .col(string("owner_id_number"))
                .col(string("representative_name"))
                .col(text("profile"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        index(m, "enterprises", "ix_enterprises_owner", &["owner_id_number"]).await?;
        index(m, "enterprises", "ix_enterprises_name", &["name"]).await?;
        m.create_table(
            Table::create()
                .table("licence_versions")
                .col(uuid("id").primary_key())
                .col(uuid("enterprise_id"))
                .col(integer("version"))
                .col(text("content"))
                .col(ts("issued_at"))
                .col(uuid_null("application_id"))
                .col(ts_null("superseded_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "licence_versions", "ux_licence_versions_enterprise_version", &["enterprise_id", "version"]).await?;
        m.create_table(
            Table::create()
                .table("name_records")
                .col(uuid("id").primary_key())
                .col(string("authority"))
                .col(string("full_name"))
                .col(string("trade_name"))
                .col(string_null("industry"))
                .col(string("state"))
                .col(uuid_null("application_id"))
                .col(uuid_null("enterprise_id"))
                .col(string_null("uscc"))
                .col(ts_null("reserved_until"))
                .col(ts_null("released_at"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        index(m, "name_records", "ix_name_records_full_name", &["authority", "full_name"]).await?;
        index(m, "name_records", "ix_name_records_trade_name", &["authority", "trade_name"]).await?;
        index(m, "name_records", "ix_name_records_application", &["application_id"]).await?;
        m.create_table(
            Table::create()
                .table("code_sequences")
                .col(string("name").primary_key())
                .col(big_integer("next_value"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "code_sequences",
            "name_records",
            "licence_versions",
            "enterprises",
            "audit_events",
            "idempotency_keys",
            "signatures",
            "application_parties",
            "applications",
            "api_keys",
            "sessions",
            "used_assertions",
            "channels",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut ix = Index::create().name(name).table(table).to_owned();
    for c in cols {
        ix.col(*c);
    }
    m.create_index(ix).await
}

async fn unique(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut ix = Index::create().name(name).table(table).unique().to_owned();
    for c in cols {
        ix.col(*c);
    }
    m.create_index(ix).await
}
