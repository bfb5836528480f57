//! Bulk inserts for seeding large databases: many rows per statement, many
//! statements per transaction.
use entities::{application, enterprise, licence_version, name_record};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

/// Rows per INSERT: under SQLite's 32 766 bound parameters for the widest table.
const ROWS_PER_STATEMENT: usize = 500;

async fn chunks<E, A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_STATEMENT));
        E::insert_many(std::mem::replace(&mut rows, rest)).exec_without_returning(db).await?;
    }
    Ok(())
}

pub async fn enterprises(db: &impl ConnectionTrait, rows: Vec<enterprise::ActiveModel>) -> Result<(), DbErr> {
    chunks(db, rows).await
}

pub async fn licences(db: &impl ConnectionTrait, rows: Vec<licence_version::ActiveModel>) -> Result<(), DbErr> {
    chunks(db, rows).await
}

pub async fn names(db: &impl ConnectionTrait, rows: Vec<name_record::ActiveModel>) -> Result<(), DbErr> {
    chunks(db, rows).await
}

pub async fn applications(db: &impl ConnectionTrait, rows: Vec<application::ActiveModel>) -> Result<(), DbErr> {
    chunks(db, rows).await
}
