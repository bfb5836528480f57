//! Counters allocated inside the caller's transaction.
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

/// Returns the next value of `name` (starting at 0) and advances it, in one
/// statement (an upsert that returns the new value). The upsert takes the
/// row lock on PostgreSQL (and SQLite has one writer), so concurrent
/// transactions get distinct values; a rolled-back transaction gives its
/// value back, so a code is never skipped or issued twice.
pub async fn next(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let upsert = Query::insert()
        .into_table("code_sequences")
        .columns(["name", "next_value"])
        .values_panic([name.into(), 1i64.into()])
        .on_conflict(
            OnConflict::column("name")
                .value("next_value", Expr::col(("code_sequences", "next_value")).add(1))
                .to_owned(),
        )
        .returning_col("next_value")
        .to_owned();
    let row = db.query_one(&upsert).await?.ok_or_else(|| DbErr::RecordNotFound(name.to_string()))?;
    Ok(row.try_get::<i64>("", "next_value")? - 1)
}
