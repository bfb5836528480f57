//! Credential signing keys, the key each licence version was signed with,
//! and the shop URLs where an enterprise displays its licence (亮照).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("signing_keys")
                .col(integer("kid").primary_key())
                .col(string("public_key"))
                .col(string("private_key"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("retired_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("licence_versions").add_column(integer_null("signing_kid")).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("display_urls")
                .col(uuid("enterprise_id"))
                .col(string("url"))
                .col(timestamp_with_time_zone("declared_at"))
                .primary_key(Index::create().col("enterprise_id").col("url"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("display_urls").to_owned()).await?;
        m.alter_table(Table::alter().table("licence_versions").drop_column("signing_kid").to_owned()).await?;
        m.drop_table(Table::drop().table("signing_keys").to_owned()).await
    }
}
