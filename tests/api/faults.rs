//! Delivery survives a killed process, and two instances on one PostgreSQL
//! never send the same message at the same time.
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use chrono::Utc;
use greenchannel::store::{self, Db};

use std::collections::HashMap;

use futures::StreamExt;

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
        &tx,
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
    store::outbox::enqueue(&tx, messages, now).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_approving_the_same_thousand_applications_issue_each_licence_once() {
    use entities::{enterprise, licence_version, notification};
    use sea_orm::EntityTrait;
    let Ok(_) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs TEST_DATABASE_URL (several instances share one PostgreSQL)");
        return;
    };
    let n = std::env::var("GC_CRASH_SUBMISSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let a = spawn_app().await;
    let admin = a.key("admin", None, None, None).await;
    let rx = Receiver::start(SECRET).await;
    rx.log.lock().unwrap().delay = Duration::from_millis(2);
    let body = serde_json::json!({ "code": "LY-SCJG", "name": "略阳县市场监督管理局", "kind": "market_regulation",
        "admin_code": COUNTY, "webhook_url": rx.url, "webhook_secret": rx.secret });
    assert_eq!(a.post("/api/v1/admin/departments", &admin, &body).await.status, 201);
    let people: Vec<Person> = (0..n).map(|_| Person::new("并发审核")).collect();
    let drafts = crate::crash::prepare(&a, &people, |_| true, true).await;

    let mut s = test_settings();
    s.database_url = a.state.settings.database_url.clone();
    let d = tempfile::tempdir().unwrap();
    s.data_dir = d.path().to_path_buf();
    let b = spawn_with_settings(s, d).await;
    // Two reviewers, one per instance, both working the whole queue in the
    // same order: almost every approval races the other instance's.
    let (ra, rb) = (a.reviewer(COUNTY).await, b.reviewer(COUNTY).await);
    let ids: Vec<String> = drafts.iter().map(|d| d.id.clone()).collect();
    let (from_a, from_b) = tokio::join!(approve_all(&a, &ra, &ids), approve_all(&b, &rb, &ids));

    let mut winners: HashMap<String, usize> = HashMap::new();
    for (id, status, uscc, text) in from_a.iter().chain(&from_b) {
        match status {
            200 => {
                assert!(uscc.is_some(), "{text}");
                *winners.entry(id.clone()).or_default() += 1;
            }
            409 => assert!(text.contains("invalid_state"), "{text}"),
            _ => panic!("{id}: {status} {text}"),
        }
    }
    assert_eq!(winners.len(), n, "every application approved");
    assert!(winners.values().all(|&w| w == 1), "each by exactly one instance");
    let won_by_b = from_b.iter().filter(|r| r.1 == 200).count();
    assert!(won_by_b > 0 && won_by_b < n, "both instances approved some ({won_by_b} of {n} by the second)");

    let c = a.state.db.conn();
    let enterprises = enterprise::Entity::find().all(c).await.unwrap();
    assert_eq!(enterprises.len(), n);
    let codes: std::collections::HashSet<&str> = enterprises.iter().map(|e| e.uscc.as_str()).collect();
    assert_eq!(codes.len(), n, "every code unique");
    let licences = licence_version::Entity::find().all(c).await.unwrap();
    let mut first_versions: HashMap<uuid::Uuid, usize> = HashMap::new();
    for l in licences.iter().filter(|l| l.version == 1) {
        *first_versions.entry(l.enterprise_id).or_default() += 1;
    }
    assert_eq!(licences.len(), n);
    assert!(
        first_versions.len() == n && first_versions.values().all(|&v| v == 1),
        "no enterprise with two version-1 licences"
    );
    assert_eq!(notification::Entity::find().all(c).await.unwrap().len(), n, "one notification per approval");
    // Both instances deliver; none sends a message another is sending.
    rx.wait_for(n, 120).await;
    {
        let log = rx.log.lock().unwrap();
        assert_eq!(log.concurrent_duplicates, 0);
        assert_eq!(log.accepted.len(), n);
        assert_eq!(log.bad_signatures, 0);
    }
    let (mut a, mut b) = (a, b);
    a.stop().await;
    b.stop().await;
}

/// Approves every id, eight at a time: (id, status, uscc, body).
async fn approve_all(app: &TestApp, reviewer: &str, ids: &[String]) -> Vec<(String, u16, Option<String>, String)> {
    futures::stream::iter(ids)
        .map(|id| async move {
            let r = app.decide(reviewer, id, serde_json::json!({ "decision": "approve" })).await;
            (id.clone(), r.status.as_u16(), r.body["uscc"].as_str().map(String::from), r.text)
        })
        .buffer_unordered(8)
        .collect()
        .await
}

/// PostgreSQL drops every connection (a restart, a failover, a proxy that
/// gave up): requests caught in that moment answer 201 or a retryable 503,
/// never a 500, and the pool recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_database_connections_answer_503_and_the_pool_recovers() {
    use sea_orm::{ConnectionTrait, Database};
    use secrecy::ExposeSecret;
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs TEST_DATABASE_URL (drops PostgreSQL connections)");
        return;
    };
    let app = spawn_app().await;
    let p = Person::new("断线重连");
    let token = app.sign_in(&p).await;
    let drafts = |n: usize| {
        let (app, token, form) = (&app, &token, online_shop_form(&p, None));
        futures::future::join_all((0..n).map(move |_| {
            let form = form.clone();
            async move { app.post("/api/v1/applications", token, &form).await }
        }))
    };
    // Several pooled connections, all just used.
    assert!(drafts(8).await.iter().all(|r| r.status == 201));

    let url = app.state.settings.database_url.as_ref().unwrap().expose_secret().to_string();
    let name = url::Url::parse(&url).unwrap().path().trim_start_matches('/').to_string();
    let admin = Database::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    admin.close().await.ok();

    let caught = drafts(8).await;
    for r in &caught {
        match r.status.as_u16() {
            201 => {}
            503 => {
                r.problem(503, "service_unavailable");
                assert_eq!(r.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
            }
            s => panic!("{s}: {}", r.text),
        }
    }
    let refused = caught.iter().filter(|r| r.status == 503).count();
    eprintln!("{refused} of 8 requests met a dropped connection");
    // The broken connections are gone after one use each; then all is well.
    let mut created = 8 + caught.iter().filter(|r| r.status == 201).count();
    let mut recovered = false;
    for _ in 0..50 {
        let round = drafts(8).await;
        created += round.iter().filter(|r| r.status == 201).count();
        if round.iter().all(|r| r.status == 201) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover");
    // A refused request left nothing behind; every accepted one is stored.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = entities::application::Entity::find().count(app.state.db.conn()).await.unwrap();
    assert_eq!(stored as usize, created);
    let mut app = app;
    app.stop().await;
}
