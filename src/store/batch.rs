//! Write-only use cases whose statements do not depend on each other's
//! results (a sign-in, a new draft) commit as one batch. On PostgreSQL the
//! batch is a single statement, each part a data-modifying `WITH`, which
//! the server runs atomically on its own: one round trip instead of
//! `BEGIN`, one per statement and `COMMIT` (five for a sign-in). Each round
//! trip is a measurable share of a request's cost there (BENCHMARKS.md).
//! On SQLite, where a round trip is a function call, it is an ordinary
//! write transaction.
//!
//! The same single statement carries a write transaction's deferred writes
//! and audit events ([`super::WriteTx::defer`]): `one_statement` builds
//! it for both, and `written_table` tells `defer` which parts might read
//! each other.
use entities::audit_event;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryTrait, Statement, Value};

use super::{Db, audit::AuditLog};

/// Statements and audit events that commit together or not at all.
pub struct Batch {
    backend: DbBackend,
    parts: Vec<Statement>,
    audit: std::sync::Mutex<Vec<audit_event::ActiveModel>>,
}

impl Batch {
    pub(super) fn new(backend: DbBackend) -> Self {
        Batch { backend, parts: vec![], audit: Default::default() }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Adds a statement built for this batch's backend. It must not read
    /// what an earlier part writes: on PostgreSQL the parts share one
    /// snapshot.
    pub fn push(&mut self, stmt: Statement) {
        debug_assert_eq!(stmt.db_backend, self.backend);
        self.parts.push(stmt);
    }
}

impl AuditLog for Batch {
    fn audit(&self, event: audit_event::ActiveModel) {
        self.audit.lock().expect("audit buffer").push(event);
    }
}

impl Db {
    /// A batch for [`Db::commit_batch`].
    pub fn batch(&self) -> Batch {
        Batch::new(self.backend())
    }

    /// Writes the batch atomically: all of it or, on any error, none.
    pub async fn commit_batch(&self, batch: Batch) -> Result<(), DbErr> {
        let events = batch.audit.into_inner().expect("audit buffer");
        match batch.backend {
            DbBackend::Postgres => {
                let Some(stmt) = one_statement(batch.parts, events) else { return Ok(()) };
                self.conn().execute_raw(stmt).await.map(|_| ())
            }
            _ => {
                let tx = self.write().await?;
                for part in batch.parts {
                    tx.execute_raw(part).await?;
                }
                for e in events {
                    tx.audit(e);
                }
                tx.commit().await
            }
        }
    }
}

/// `WITH p0 AS (…), p1 AS (…), e AS (INSERT INTO audit_events … RETURNING
/// id) INSERT INTO audit_pending …`: the parts with their placeholders
/// renumbered after those before them, and the audit events queued for
/// sealing as [`super::audit::insert_many`] does.
pub(super) fn one_statement(parts: Vec<Statement>, events: Vec<audit_event::ActiveModel>) -> Option<Statement> {
    let mut all: Vec<(String, Vec<Value>)> =
        parts.into_iter().map(|s| (s.sql, s.values.map(|v| v.0).unwrap_or_default())).collect();
    let mut last_is_audit = false;
    if !events.is_empty() {
        let insert = audit_event::Entity::insert_many(events).build(DbBackend::Postgres);
        all.push((format!("{} RETURNING id", insert.sql), insert.values.map(|v| v.0).unwrap_or_default()));
        last_is_audit = true;
    }
    let mut sql = String::new();
    let mut values = Vec::new();
    let n = all.len();
    for (i, (part, vals)) in all.into_iter().enumerate() {
        let part = renumber(&part, values.len());
        values.extend(vals);
        if i + 1 == n && !last_is_audit {
            if i > 0 {
                sql += " ";
            }
            sql += &part;
        } else {
            sql += if i == 0 { "WITH " } else { ", " };
            sql += &format!("p{i} AS ({part})");
            if i + 1 == n {
                sql += &format!(" INSERT INTO audit_pending (event_id) SELECT id FROM p{i}");
            }
        }
    }
    if n == 0 {
        return None;
    }
    Some(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
}

/// The table a write built by the query builder writes (`INSERT INTO "t"`,
/// `UPDATE "t"`, `DELETE FROM "t"`), `None` for anything else.
pub(super) fn written_table(sql: &str) -> Option<&str> {
    let rest = ["INSERT INTO ", "UPDATE ", "DELETE FROM "].iter().find_map(|p| sql.strip_prefix(p))?;
    let name = rest.strip_prefix('"')?;
    name.find('"').map(|end| &name[..end])
}

/// Shifts every `$n` placeholder by `offset`. The statements come from the
/// query builder, which binds every value as a parameter, so a `$` followed
/// by digits is always a placeholder.
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek()
            && d.is_ascii_digit()
        {
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out += &(n + offset).to_string(),
            Err(_) => out += &digits,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_shifted_past_the_parts_before() {
        assert_eq!(renumber("VALUES ($1, $2), ($10, $11)", 3), "VALUES ($4, $5), ($13, $14)");
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
        assert_eq!(renumber("a $ b", 2), "a $ b");
    }

    #[test]
    fn the_written_table_is_read_from_builder_statements_only() {
        assert_eq!(written_table(r#"INSERT INTO "enterprises" ("id") VALUES ($1)"#), Some("enterprises"));
        assert_eq!(written_table(r#"UPDATE "premises" SET "state" = $1"#), Some("premises"));
        assert_eq!(written_table(r#"DELETE FROM "outbox" WHERE "id" = $1"#), Some("outbox"));
        assert_eq!(written_table("WITH x AS (SELECT 1) UPDATE \"a\" SET b = 1"), None);
        assert_eq!(written_table("UPDATE a SET b = 1"), None);
        assert_eq!(written_table("SELECT 1"), None);
    }

    #[test]
    fn parts_become_one_statement_ending_with_the_audit_queue() {
        let p = |sql: &str, v: Vec<Value>| Statement::from_sql_and_values(DbBackend::Postgres, sql, v);
        let s = one_statement(
            vec![
                p("INSERT INTO a (x) VALUES ($1)", vec![1.into()]),
                p("INSERT INTO b (y, z) VALUES ($1, $2)", vec![2.into(), 3.into()]),
            ],
            vec![],
        )
        .unwrap();
        assert_eq!(s.sql, "WITH p0 AS (INSERT INTO a (x) VALUES ($1)) INSERT INTO b (y, z) VALUES ($2, $3)");
        assert_eq!(s.values.unwrap().0, vec![Value::from(1), Value::from(2), Value::from(3)]);
        assert!(one_statement(vec![], vec![]).is_none());

        let event = audit_event::ActiveModel {
            occurred_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
            actor_role: sea_orm::ActiveValue::Set("system".into()),
            actor_id: sea_orm::ActiveValue::Set("t".into()),
            channel: sea_orm::ActiveValue::Set(None),
            action: sea_orm::ActiveValue::Set("x".into()),
            subject_type: sea_orm::ActiveValue::Set("s".into()),
            subject_id: sea_orm::ActiveValue::Set("1".into()),
            before_version: sea_orm::ActiveValue::Set(None),
            after_version: sea_orm::ActiveValue::Set(None),
            detail: sea_orm::ActiveValue::Set("{}".into()),
            ..Default::default()
        };
        let s = one_statement(vec![p("INSERT INTO a (x) VALUES ($1)", vec![1.into()])], vec![event]).unwrap();
        assert!(
            s.sql.starts_with("WITH p0 AS (INSERT INTO a (x) VALUES ($1)), p1 AS (INSERT INTO \"audit_events\""),
            "{}",
            s.sql
        );
        assert!(s.sql.contains("VALUES ($2, $3"), "{}", s.sql);
        assert!(s.sql.ends_with(" RETURNING id) INSERT INTO audit_pending (event_id) SELECT id FROM p1"), "{}", s.sql);
        assert_eq!(s.values.unwrap().0.len(), 11);
    }
}
