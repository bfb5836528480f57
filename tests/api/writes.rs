//! Deferred writes (`WriteTx::defer`): on PostgreSQL they travel with the
//! next statement or the commit, and must still read as if each had run at
//! once. (SQLite runs them at once, so there these pass trivially.)
use chrono::Utc;
use entities::idempotency_key;
use greenchannel::store;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait, sea_query::Expr};

use crate::helpers::*;

async fn remembered(db: &impl sea_orm::ConnectionTrait, key: &str) -> Option<String> {
    store::idempotency::find(db, "writes-test", key).await.unwrap().map(|r| r.body)
}

#[tokio::test]
async fn deferred_writes_are_seen_by_the_transactions_next_read_and_land_in_order() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let now = Utc::now();
    let tx = db.write().await.unwrap();
    store::idempotency::insert(&tx, "writes-test", "a", "h", 200, "first", now).await.unwrap();
    assert_eq!(remembered(&tx, "a").await.as_deref(), Some("first"), "a read sends what waits first");

    // An update of a row a deferred insert creates: the same table, so the
    // insert goes first (one statement would give both the same snapshot,
    // and the update would find nothing).
    store::idempotency::insert(&tx, "writes-test", "b", "h", 200, "second", now).await.unwrap();
    let update = idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Body, Expr::value("second, edited"))
        .filter(idempotency_key::Column::Key.eq("b"))
        .build(sea_orm::ConnectionTrait::get_database_backend(&tx));
    tx.defer(update).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(remembered(db.conn(), "b").await.as_deref(), Some("second, edited"));
}

#[tokio::test]
async fn a_deferred_write_that_fails_fails_the_commit_and_leaves_nothing() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let now = Utc::now();
    let tx = db.write().await.unwrap();
    store::idempotency::insert(&tx, "writes-test", "taken", "h", 200, "kept", now).await.unwrap();
    tx.commit().await.unwrap();
    let before = store::audit::for_subject(db.conn(), "test", "deferred").await.unwrap().len();

    let tx = db.write().await.unwrap();
    store::idempotency::insert(&tx, "writes-test", "fresh", "h", 200, "lost", now).await.unwrap();
    store::audit::record(
        &tx,
        store::audit::Event {
            at: now,
            actor: &greenchannel::domain::principal::Actor::system(),
            action: "test.deferred",
            subject_type: "test",
            subject_id: "deferred",
            before_version: None,
            after_version: None,
            detail: serde_json::json!({}),
        },
    );
    // The same key again: refused by the primary key, whenever it is sent.
    let second = store::idempotency::insert(&tx, "writes-test", "taken", "h", 200, "again", now).await;
    let outcome = match second {
        Err(e) => Err(e),
        Ok(()) => tx.commit().await,
    };
    assert!(outcome.is_err(), "a duplicate key must fail the transaction");
    assert_eq!(remembered(db.conn(), "fresh").await, None, "the other deferred write rolled back with it");
    assert_eq!(remembered(db.conn(), "taken").await.as_deref(), Some("kept"));
    assert_eq!(store::audit::for_subject(db.conn(), "test", "deferred").await.unwrap().len(), before);
}
