//! Killing the server mid-write loses nothing and half-writes nothing.
//!
//! A burst of submissions, each sent with an `Idempotency-Key` and retried
//! with the same key after a dropped connection (as a phone does), while the
//! server process is SIGKILLed again and again; then a reviewer's approvals
//! under the same treatment. Afterwards the database is read directly:
//! every acknowledged submission exists exactly once with its audit events,
//! every approval has its enterprise, its one licence and its notifications,
//! and replaying every key returns the very answer first acknowledged.
use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, stream};
use greenchannel::store::Db;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// Submissions in the burst (`GC_CRASH_SUBMISSIONS` to change); one in five
/// names a licensed activity, so it waits for a reviewer and is notified.
fn submissions() -> usize {
    std::env::var("GC_CRASH_SUBMISSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// The real binary, restarted on the same port and database after each kill.
pub struct Process {
    child: Option<Child>,
    pub port: u16,
    data_dir: PathBuf,
    database_url: Option<String>,
    /// Extra environment, e.g. `RUST_LOG`.
    pub env: Vec<(&'static str, String)>,
    /// Where stdout and stderr go (appended); nowhere when `None`.
    pub log: Option<PathBuf>,
}

impl Process {
    /// The binary on the database `app` was started on (`app` stopped first).
    pub fn for_database_of(app: &TestApp) -> Process {
        let s = &app.state.settings;
        Process {
            child: None,
            port: free_port(),
            data_dir: s.data_dir.clone(),
            database_url: s.database_url.as_ref().map(|u| u.expose_secret().to_string()),
            env: vec![("GREENCHANNEL_AUTO_APPROVAL", "true".into()), ("RUST_LOG", "error".into())],
            log: None,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenchannel"));
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{}", self.port)])
            .env("GREENCHANNEL_DATA_DIR", &self.data_dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        match &self.log {
            Some(path) => {
                let f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
                cmd.stdout(f.try_clone().unwrap()).stderr(f);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        if let Some(u) = &self.database_url {
            cmd.env("DATABASE_URL", u);
        }
        self.child = Some(cmd.spawn().expect("start greenchannel"));
    }

    /// Waits until it answers `/healthz`.
    pub async fn ready(&self) {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..1000 {
            if client.get(format!("{}/healthz", self.base())).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the server never came up");
    }

    /// SIGKILL: no shutdown, no flush, transactions in flight abandoned.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends one request until it gets an HTTP answer: transport errors (refused,
/// reset, timed out) are retried unchanged, as a phone retries.
async fn persist(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> (u16, String, u32) {
    let mut retries = 0;
    loop {
        let mut rb = client.request(Method::POST, url).bearer_auth(token).timeout(Duration::from_secs(10));
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        if let Ok(r) = rb.send().await {
            let status = r.status().as_u16();
            if let Ok(text) = r.text().await {
                return (status, text, retries);
            }
        }
        retries += 1;
        assert!(retries < 400, "{url}: no answer after {retries} attempts");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Kills the server 100–350 ms after each restart has come up, `max` times
/// (or until `done`), restarting it straight away; then lets it run.
fn killer(server: Arc<Mutex<Process>>, base: String, max: u32, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<u32> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut kills = 0;
        while kills < max && !done.load(Ordering::Relaxed) {
            while client.get(format!("{base}/healthz")).send().await.is_err() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100 + (u64::from(kills) * 89) % 250)).await;
            if done.load(Ordering::Relaxed) {
                break;
            }
            let mut s = server.lock().unwrap();
            s.kill();
            kills += 1;
            s.start();
        }
        kills
    })
}

pub struct Draft {
    pub id: String,
    pub token: String,
    pub key: String,
    pub licensed: bool,
}

/// One signed application per person, eight at a time; those `licensed(i)`
/// selects name a food-sales activity (and acknowledge the notice). With
/// `submit`, each is submitted too.
pub async fn prepare(app: &TestApp, people: &[Person], licensed: impl Fn(usize) -> bool, submit: bool) -> Vec<Draft> {
    stream::iter(people.iter().enumerate())
        .map(|(i, p)| {
            let licensed = licensed(i);
            async move {
                let token = app.sign_in(p).await;
                let mut form = online_shop_form(p, None);
                if licensed {
                    form["scope"] = json!(["G1001", "L1001"]);
                }
                let id = app.post("/api/v1/applications", &token, &form).await.ok()["id"].as_str().unwrap().to_string();
                app.post(&format!("/api/v1/applications/{id}/signatures"), &token, &json!({})).await.ok();
                if licensed {
                    let ack = format!("/api/v1/applications/{id}/notice/acknowledgement");
                    app.request(Method::POST, &ack, Some(&token), None, &[]).await.ok();
                }
                if submit {
                    app.submit(&token, &id).await.ok();
                }
                Draft { id, token, key: Uuid::new_v4().to_string(), licensed }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_during_idempotent_submissions_and_approvals_loses_and_half_writes_nothing() {
    let n = submissions();
    // Drafts are prepared by an in-process server on the database the
    // killed binary will use, then that server is stopped.
    let mut prep = spawn_app().await;
    let reviewer = prep.reviewer(COUNTY).await;
    let people: Vec<Person> = (0..n).map(|_| Person::new("断电测试")).collect();
    let drafts = prepare(&prep, &people, |i| i % 5 == 4, false).await;
    prep.stop().await;
    let started = std::time::Instant::now();
    eprintln!("prepared {n} drafts");

    let settings = &prep.state.settings;
    let database_url = settings.database_url.as_ref().map(|u| u.expose_secret().to_string());
    let server = Arc::new(Mutex::new(Process::for_database_of(&prep)));
    let port = server.lock().unwrap().port;
    server.lock().unwrap().start();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().unwrap();

    // 1. The burst of submissions.
    let done = Arc::new(AtomicBool::new(false));
    let kills = killer(server.clone(), base.clone(), 8, done.clone());
    let acks: Vec<(u16, String, u32)> = stream::iter(&drafts)
        .map(|d| {
            let url = format!("{base}/api/v1/applications/{}/submit", d.id);
            let client = &client;
            async move { persist(client, &url, &d.token, Some(&d.key), None).await }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    // `buffer_unordered` loses the order; match answers back by id.
    let mut acked: HashMap<String, Value> = HashMap::new();
    for (status, text, _) in &acks {
        assert_eq!(*status, 200, "every submission is acknowledged in the end: {text}");
        let v: Value = serde_json::from_str(text).unwrap();
        acked.insert(v["id"].as_str().unwrap().to_string(), v);
    }
    assert_eq!(acked.len(), n);
    let retried = acks.iter().filter(|a| a.2 > 0).count();

    done.store(true, Ordering::Relaxed);
    let submit_kills = kills.await.unwrap();

    // 2. A reviewer approves the licensed ones, same treatment.
    let done = Arc::new(AtomicBool::new(false));
    let kills = killer(server.clone(), base.clone(), 4, done.clone());
    let approvals: Vec<(String, u16, String)> = stream::iter(drafts.iter().filter(|d| d.licensed))
        .map(|d| {
            let url = format!("{base}/api/v1/review/applications/{}/decision", d.id);
            let (client, reviewer) = (&client, &reviewer);
            async move {
                let (s, t, _) = persist(client, &url, reviewer, None, Some(&json!({ "decision": "approve" }))).await;
                (d.id.clone(), s, t)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    done.store(true, Ordering::Relaxed);
    let approve_kills = kills.await.unwrap();
    for (id, status, text) in &approvals {
        // A retry after an approval whose answer was lost finds it decided.
        assert!(*status == 200 || (*status == 409 && text.contains("invalid_state")), "{id}: {status} {text}");
    }

    // 3. Every key replayed against the last server: the first answer, verbatim.
    let replays: Vec<(String, u16, String)> = stream::iter(&drafts)
        .map(|d| {
            let url = format!("{base}/api/v1/applications/{}/submit", d.id);
            let client = &client;
            async move {
                let (s, t, _) = persist(client, &url, &d.token, Some(&d.key), None).await;
                (d.id.clone(), s, t)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for (id, status, text) in &replays {
        assert_eq!(*status, 200);
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(&v, &acked[id], "a replay answers what was first acknowledged");
    }
    server.lock().unwrap().kill();

    // 4. The database, read directly.
    let url =
        database_url.unwrap_or_else(|| format!("sqlite://{}/greenchannel.db?mode=rw", settings.data_dir.display()));
    let db = Db::connect_url(&url, 2, "normal").await.unwrap();
    check_database(&db, &drafts, &acked).await;
    eprintln!(
        "{n} submissions: {submit_kills} kills, {retried} submissions retried after a dropped connection, {} approvals: {approve_kills} kills; {:?} after preparing",
        approvals.len(),
        started.elapsed()
    );
    assert!(submit_kills >= 3 && approve_kills >= 1, "the server was killed during both bursts");
}

async fn check_database(db: &Db, drafts: &[Draft], acked: &HashMap<String, Value>) {
    use entities::{application, audit_event, enterprise, licence_version, notification};
    use sea_orm::EntityTrait;
    let c = db.conn();
    let apps = application::Entity::find().all(c).await.unwrap();
    assert_eq!(apps.len(), drafts.len(), "no application was created twice");
    let events = audit_event::Entity::find().all(c).await.unwrap();
    let mut per_app: HashMap<(String, String), usize> = HashMap::new();
    for e in events.iter().filter(|e| e.subject_type == "application") {
        *per_app.entry((e.subject_id.clone(), e.action.clone())).or_default() += 1;
    }
    let enterprises = enterprise::Entity::find().all(c).await.unwrap();
    let licences = licence_version::Entity::find().all(c).await.unwrap();
    let notifications = notification::Entity::find().all(c).await.unwrap();
    let licensed: HashSet<&str> = drafts.iter().filter(|d| d.licensed).map(|d| d.id.as_str()).collect();

    for a in &apps {
        let id = a.id.to_string();
        let count = |action: &str| per_app.get(&(id.clone(), action.to_string())).copied().unwrap_or(0);
        let first = &acked[&id];
        let plain = !licensed.contains(id.as_str());
        assert_eq!(first["status"], if plain { "approved" } else { "submitted" }, "{id}: {first}");
        assert_eq!(a.status, "approved", "{id}");
        assert_eq!(count("application.submitted"), 1, "{id} submitted exactly once");
        assert_eq!(count("application.approved"), 1, "{id} approved exactly once");
        assert_eq!(count("application.signed"), 1, "{id}");
        let ent = a.enterprise_id.expect("an approval has its enterprise");
        let e = enterprises.iter().find(|e| e.id == ent).expect("the enterprise row exists");
        assert_eq!(Some(&e.uscc), a.uscc.as_ref());
        let mine: Vec<_> = licences.iter().filter(|l| l.enterprise_id == ent).collect();
        assert_eq!(mine.len(), 1, "{id}: one licence");
        assert_eq!((mine[0].version, mine[0].application_id), (1, Some(a.id)));
        let notified = notifications.iter().filter(|n| n.application_id == Some(a.id)).count();
        assert_eq!(notified, if plain { 0 } else { 1 }, "{id}: one notification per licensed activity");
    }
    assert_eq!(enterprises.len(), apps.len(), "no enterprise without its approval");
    assert_eq!(licences.len(), apps.len());
    let codes: HashSet<&str> = enterprises.iter().map(|e| e.uscc.as_str()).collect();
    assert_eq!(codes.len(), enterprises.len(), "codes are unique");
    assert_eq!(notifications.len(), licensed.len());
}
