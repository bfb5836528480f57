//! A platform's watch-list: the enterprises whose changes it follows.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_watchlist")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub platform_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub uscc: String,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
