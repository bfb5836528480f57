//! Delivery survives a killed process, and two instances on one PostgreSQL
//! never send the same message at the same time.
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use chrono::Utc;
use greenchannel::store::{self, Db};

use crate::{helpers::*, receiver::Receiver};

const SECRET: &str = "fault-test-webhook-secret-0001";

/// A database (SQLite file, or a fresh PostgreSQL one) holding `n` messages
/// for a department whose webhook is `rx`.
async fn queued(dir: &std::path::Path, rx: &Receiver, n: usize) -> (Option<String>, Db) {
    let pg = match std::env::var("TEST_DATABASE_URL") {
        Ok(u) => Some(fresh_postgres_database(&u).await),
        Err(_) => None,
    };
    let url = pg.clone().unwrap_or_else(|| format!("sqlite://{}/greenchannel.db?mode=rwc", dir.display()));
    let db = Db::connect_url(&url, 4, "normal").await.unwrap();
    db.migrate().await.unwrap();
    let now = Utc::now();
    let tx = db.write().await.unwrap();
    store::notifications::upsert_department(
        &*tx,
        entities::department::Model {
            code: "FAULT".into(),
            name: "故障测试部门".into(),
            kind: "market_regulation".into(),
            admin_code: COUNTY.into(),
            webhook_url: Some(rx.url.clone()),
            webhook_secret: Some(rx.secret.clone()),
            claim_days: 5,
            feedback_days: 20,
            created_at: now,
            disabled_at: None,
        },
    )
    .await
    .unwrap();
    let messages = (0..n)
        .map(|i| store::outbox::NewMessage {
            topic: "notification.pushed".into(),
            target_kind: "department",
            target_id: "FAULT".into(),
            payload: format!("{{\"n\":{i}}}"),
        })
        .collect();
    store::outbox::enqueue(&*tx, messages, now).await.unwrap();
    tx.commit().await.unwrap();
    (pg, db)
}

fn serve(dir: &std::path::Path, pg: &Option<String>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenchannel"));
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .env("GREENCHANNEL_DATA_DIR", dir)
        .env("GREENCHANNEL_DELIVERY_LEASE_SECONDS", "1")
        .env("GREENCHANNEL_DELIVERY_BACKOFF_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(u) = pg {
        cmd.env("DATABASE_URL", u);
    }
    cmd.spawn().unwrap()
}

async fn delivered(db: &Db) -> usize {
    store::outbox::list(db.conn(), Some("delivered"), None, 10_000).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_repeatedly_loses_no_notification() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(SECRET).await;
    rx.log.lock().unwrap().delay = Duration::from_millis(3);
    let (pg, db) = queued(dir.path(), &rx, 500).await;
    let mut kills = 0;
    for round in 0..6 {
        let mut child = serve(dir.path(), &pg);
        tokio::time::sleep(Duration::from_millis(300 + 150 * round)).await;
        if rx.accepted() >= 500 {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        // SIGKILL: no shutdown, no cleanup; claims in flight are abandoned.
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    let mut child = serve(dir.path(), &pg);
    rx.wait_for(500, 90).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while delivered(&db).await < 500 {
        assert!(tokio::time::Instant::now() < deadline, "outbox never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = rx.log.lock().unwrap();
    assert_eq!(log.accepted.len(), 500, "every message arrived; each delivery id accepted once");
    assert!(log.requests.len() >= 500);
    assert_eq!(log.bad_signatures, 0);
    eprintln!("{kills} kills, {} requests for 500 messages", log.requests.len());
    assert!(kills >= 2, "the server was killed while delivering");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgresql_never_send_a_message_twice_at_once() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs TEST_DATABASE_URL (several instances share one PostgreSQL)");
        return;
    };
    let _ = admin_url;
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(SECRET).await;
    rx.log.lock().unwrap().delay = Duration::from_millis(2);
    let (pg, db) = queued(dir.path(), &rx, 1000).await;
    let url = pg.unwrap();
    let mut apps = Vec::new();
    for _ in 0..2 {
        let mut s = test_settings();
        s.database_url = Some(url.clone().into());
        s.delivery_batch = 25;
        let d = tempfile::tempdir().unwrap();
        s.data_dir = d.path().to_path_buf();
        apps.push(spawn_with_settings(s, d).await);
    }
    rx.wait_for(1000, 60).await;
    {
        let log = rx.log.lock().unwrap();
        assert_eq!(log.concurrent_duplicates, 0, "no message was in flight from both instances at once");
        assert_eq!(log.requests.len(), 1000, "and none was sent twice at all");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while delivered(&db).await < 1000 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both instances did part of the work.
    let mut instances = std::collections::HashSet::new();
    for r in store::outbox::list(db.conn(), Some("delivered"), None, 2000).await.unwrap() {
        for a in store::outbox::attempts(db.conn(), r.id).await.unwrap() {
            instances.insert(a.instance);
        }
    }
    assert_eq!(instances.len(), 2, "{instances:?}");
    for mut a in apps {
        a.stop().await;
    }
}
