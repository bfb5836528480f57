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
    take_block(db, name, 1).await.map(|r| r.start)
}

/// How many values of a counter a PostgreSQL instance takes at a time.
pub const BLOCK: i64 = 20;

/// Advances `name` by `n` in its own statement and returns the values taken.
async fn take_block(db: &impl ConnectionTrait, name: &str, n: i64) -> Result<std::ops::Range<i64>, DbErr> {
    let upsert = Query::insert()
        .into_table("code_sequences")
        .columns(["name", "next_value"])
        .values_panic([name.into(), n.into()])
        .on_conflict(
            OnConflict::column("name")
                .value("next_value", Expr::col(("code_sequences", "next_value")).add(n))
                .to_owned(),
        )
        .returning_col("next_value")
        .to_owned();
    let row = db.query_one(&upsert).await?.ok_or_else(|| DbErr::RecordNotFound(name.to_string()))?;
    let end = row.try_get::<i64>("", "next_value")?;
    Ok(end - n..end)
}

/// Registration codes on PostgreSQL, handed out from blocks this instance
/// takes in short transactions of their own, the way a code centre issues a
/// registration authority ranges of numbers. Taken inside the approving
/// transaction instead, the counter's row lock was held until that
/// transaction committed and every approval in a county queued behind the
/// one before it. The price: the unused rest of a block is skipped when the
/// instance stops, so codes have gaps (never duplicates).
pub struct Blocks {
    /// A connection pool of its own: a transaction waiting for a block must
    /// not wait for a connection that other such transactions hold.
    side: sea_orm::DatabaseConnection,
    ranges: std::sync::Mutex<std::collections::HashMap<String, Vec<std::ops::Range<i64>>>>,
}

impl Blocks {
    pub fn new(side: sea_orm::DatabaseConnection) -> Self {
        Blocks { side, ranges: Default::default() }
    }

    fn take(&self, name: &str) -> Option<i64> {
        let mut ranges = self.ranges.lock().expect("code blocks");
        let stack = ranges.get_mut(name)?;
        while let Some(r) = stack.last_mut() {
            if let Some(v) = r.next() {
                return Some(v);
            }
            stack.pop();
        }
        None
    }

    /// The next value of `name`: from this instance's block, or a new one.
    pub async fn next(&self, name: &str) -> Result<i64, DbErr> {
        if let Some(v) = self.take(name) {
            return Ok(v);
        }
        let mut block = take_block(&self.side, name, BLOCK).await?;
        let first = block.next().expect("a block is never empty");
        self.ranges.lock().expect("code blocks").entry(name.to_string()).or_default().push(block);
        Ok(first)
    }
}
