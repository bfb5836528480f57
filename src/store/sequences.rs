//! Counters allocated inside the caller's transaction.
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

/// Returns the next value of `name` (starting at 0) and advances it. The
/// `UPDATE` takes the row lock on PostgreSQL (and SQLite has one writer), so
/// concurrent transactions get distinct values; a rolled-back transaction
/// gives its value back, so a code is never skipped or issued twice.
pub async fn next(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let create = Query::insert()
        .into_table("code_sequences")
        .columns(["name", "next_value"])
        .values_panic([name.into(), 0i64.into()])
        .on_conflict(OnConflict::column("name").do_nothing().to_owned())
        .to_owned();
    db.execute(&create).await?;
    let bump = Query::update()
        .table("code_sequences")
        .value("next_value", Expr::col("next_value").add(1))
        .and_where(Expr::col("name").eq(name))
        .returning_col("next_value")
        .to_owned();
    let row = db.query_one(&bump).await?.ok_or_else(|| DbErr::RecordNotFound(name.to_string()))?;
    Ok(row.try_get::<i64>("", "next_value")? - 1)
}
