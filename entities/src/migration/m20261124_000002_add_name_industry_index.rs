//! Name checks look up a trade name within the industries it could conflict
//! with; with the industry in the index they read only those entries, not
//! every enterprise of the county sharing the trade name.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_name_records_trade_name_industry")
                .table("name_records")
                .col("authority")
                .col("trade_name")
                .col("industry")
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_name_records_trade_name").table("name_records").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_name_records_trade_name")
                .table("name_records")
                .col("authority")
                .col("trade_name")
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_name_records_trade_name_industry").table("name_records").to_owned()).await
    }
}
