//! Starting a real server on 127.0.0.1:0 with a fresh database, and a
//! client that talks to it the way a phone, a reviewer's tool or a platform
//! would. `TEST_DATABASE_URL=postgres://…` runs everything on PostgreSQL
//! (one fresh database per test); otherwise a temporary SQLite file.
use std::{
    net::SocketAddr,
    sync::atomic::{AtomicU32, Ordering},
};

use greenchannel::{
    config::Settings,
    domain::{principal::Actor, resident_id},
    services,
    startup::Application,
    state::{AppState, Clock},
};
use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub const DEV_SECRET: &str = "test-dev-secret-0123456789abcdef";
pub const COUNTY: &str = "610727";
pub const OTHER_COUNTY: &str = "610726";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A person with a valid resident ID, as a channel would vouch for them.
#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

static SEQ: AtomicU32 = AtomicU32::new(1);

impl Person {
    /// A fresh person with a valid, unique ID number.
    pub fn new(name: &str) -> Person {
        let n = SEQ.fetch_add(1, Ordering::Relaxed) + std::process::id() % 500;
        let first17 = format!("{COUNTY}1990{:02}{:02}{:03}", 1 + n / 28 / 999 % 12, 1 + n / 999 % 28, n % 999);
        let check = resident_id::check_char(first17.as_bytes());
        Person { name: name.into(), id_number: format!("{first17}{check}"), phone: format!("138{:08}", n) }
    }
}

pub fn test_settings() -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        dev: true,
        dev_channel_secret: DEV_SECRET.to_string().into(),
        db_max_connections: 5,
        // The slice's tests exercise the reviewer; automatic approval has its own.
        auto_approval: false,
        ..Default::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings();
    settings.data_dir = dir.path().to_path_buf();
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        settings.database_url = Some(fresh_postgres_database(&url).await.into());
    }
    configure(&mut settings);
    spawn_with_settings(settings, dir).await
}

pub async fn spawn_with_settings(settings: Settings, dir: tempfile::TempDir) -> TestApp {
    let clock = Clock::default();
    let app = Application::build_with_clock(settings, clock.clone()).await.expect("build app");
    let addr = app.addr();
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        state,
        clock,
        _dir: dir,
        stop: Some(tx),
        server: Some(server),
    }
}

/// Creates `test_<uuid>` next to the database in `url` and returns its URL.
pub async fn fresh_postgres_database(url: &str) -> String {
    use sea_orm::{ConnectionTrait, Database};
    let name = format!("test_{}", Uuid::new_v4().simple());
    let admin = Database::connect(url).await.expect("connect to TEST_DATABASE_URL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    admin.close().await.ok();
    // Same server, user and options (e.g. sslmode); another database.
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    u.set_path(&name);
    u.to_string()
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    async fn of(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// Asserts a problem+json with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "content type {} body {}",
            self.content_type(),
            self.text
        );
        assert_eq!(self.body["code"], code, "code; body: {}", self.text);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("/problems/{code}"));
        &self.body
    }

    /// The field errors as (field, code) pairs.
    pub fn fields(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or_default().to_string(),
                            e["code"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.text);
        &self.body
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        Resp::of(self.builder(method, path, token, body, headers).send().await.expect("request")).await
    }

    /// As [`TestApp::request`], sent from a task of its own: for a request
    /// that is to wait on something the test holds.
    pub fn request_in_background(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> tokio::task::JoinHandle<Resp> {
        let rb = self.builder(method, path, token, body, headers);
        tokio::spawn(async move { Resp::of(rb.send().await.expect("request")).await })
    }

    fn builder(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body), &[]).await
    }

    /// A dev-channel assertion for `p`, with claims adjustable by `edit`.
    pub fn assertion(&self, p: &Person, edit: impl FnOnce(&mut Value)) -> String {
        // The server's clock, which tests may have moved forward.
        let now = self.clock.now().timestamp();
        let mut claims = json!({

            "iss": "dev", "sub": format!("wx-{}", p.id_number), "name": p.name, "id_number": p.id_number,
            "phone": p.phone, "iat": now, "exp": now + 300, "jti": Uuid::new_v4().to_string(),
        });
        edit(&mut claims);
        jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(DEV_SECRET.as_bytes())).unwrap()
    }

    pub async fn sign_in_with(&self, channel: &str, assertion: &str) -> Resp {
        self.request(
            Method::POST,
            "/api/v1/auth/channel",
            None,
            Some(&json!({ "channel": channel, "assertion": assertion })),
            &[],
        )
        .await
    }

    /// Signs `p` in through the dev channel; returns the session token.
    pub async fn sign_in(&self, p: &Person) -> String {
        let r = self.sign_in_with("dev", &self.assertion(p, |_| {})).await;
        r.ok()["token"].as_str().unwrap().to_string()
    }

    /// Creates an API key the way `greenchannel keys create` does.
    pub async fn key(
        &self,
        role: &str,
        authority: Option<&str>,
        department: Option<&str>,
        platform: Option<&str>,
    ) -> String {
        services::auth::create_api_key(
            &self.state,
            &Actor { role: "admin", id: "test".into(), channel: None },
            services::auth::NewApiKey {
                role: role.into(),
                authority: authority.map(Into::into),
                department: department.map(Into::into),
                platform: platform.map(Into::into),
                host: None,
                name: None,
                expires_at: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("create key: {e}"))
        .key
    }

    pub async fn reviewer(&self, county: &str) -> String {
        self.key("reviewer", Some(county), None, None).await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server task").expect("server result");
        }
    }
}

/// An online-shop individual business with one operator (the slice's form).
pub fn online_shop_form(operator: &Person, name: Option<&str>) -> Value {
    json!({
        "kind": "establish",
        "entity_type": "individual_business",
        "admin_code": COUNTY,
        "name": name,
        "parties": [{ "name": operator.name, "id_number": operator.id_number, "phone": operator.phone, "roles": ["operator"], "contribution": null }],
        "scope": ["G1001", "G1016"],
        "premises": [{ "kind": "online", "platform": "某电商平台", "url": format!("https://shop.example.com/{}", &operator.id_number[12..]) }],
        "composition": "individual",
        "capital": null
    })
}

/// Creates, signs and submits an application; returns its id.
pub async fn submitted_application(app: &TestApp, token: &str, form: &Value) -> String {
    let created = app.post("/api/v1/applications", token, form).await;
    let id = created.ok()["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/applications/{id}/signatures"), token, &json!({})).await.ok();
    app.request(
        Method::POST,
        &format!("/api/v1/applications/{id}/submit"),
        Some(token),
        None,
        &[("Idempotency-Key", &Uuid::new_v4().to_string())],
    )
    .await
    .ok();
    id
}

/// The smallest file each sniffer accepts.
pub fn tiny_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
}

pub fn tiny_png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend_from_slice(&[0u8; 32]);
    v
}

impl TestApp {
    /// Uploads a material as the raw body.
    pub async fn attach(&self, token: &str, id: &str, kind: &str, bytes: Vec<u8>, content_type: &str) -> Resp {
        let r = self
            .client
            .post(format!("{}/api/v1/applications/{id}/materials?kind={kind}&filename=doc", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
    }

    /// Every given person signs in and signs the application.
    pub async fn sign_all(&self, id: &str, people: &[&Person]) {
        for p in people {
            let t = self.sign_in(p).await;
            let r = self.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await;
            assert_eq!(r.status, 201, "{} signs: {}", p.name, r.text);
        }
    }

    /// `p` signs in, drafts `form` and signs it alone: (token, application id).
    pub async fn signed_draft(&self, p: &Person, form: &Value) -> (String, String) {
        let t = self.sign_in(p).await;
        let id = self.post("/api/v1/applications", &t, form).await.ok()["id"].as_str().unwrap().to_string();
        self.sign_all(&id, &[p]).await;
        (t, id)
    }

    pub async fn submit(&self, token: &str, id: &str) -> Resp {
        self.request(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            Some(token),
            None,
            &[("Idempotency-Key", &Uuid::new_v4().to_string())],
        )
        .await
    }

    pub async fn decide(&self, reviewer: &str, id: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/review/applications/{id}/decision"), reviewer, &body).await
    }

    /// Establishes an online-shop individual business for `p` through a
    /// reviewer; returns (session token, USCC).
    pub async fn establish_shop(&self, p: &Person, name: Option<&str>) -> (String, String) {
        let token = self.sign_in(p).await;
        let id = submitted_application(self, &token, &online_shop_form(p, name)).await;
        let reviewer = self.reviewer(COUNTY).await;
        let d = self.decide(&reviewer, &id, json!({ "decision": "approve" })).await;
        (token, d.ok()["uscc"].as_str().unwrap().to_string())
    }
}

pub fn address(detail: &str) -> Value {
    json!({ "township_code": "610727001", "detail": detail })
}

impl TestApp {
    pub async fn withdraw(&self, token: &str, id: &str) -> Resp {
        self.request(Method::POST, &format!("/api/v1/applications/{id}/withdraw"), Some(token), None, &[]).await
    }
}

impl TestApp {
    /// Waits until at least `n` outbox messages are recorded delivered; their ids.
    pub async fn poll_delivered(&self, admin: &str, n: usize) -> Vec<i64> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let d = self.get("/api/v1/admin/deliveries?status=delivered", admin).await;
            let ids: Vec<i64> = d.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
            if ids.len() >= n {
                return ids;
            }
            assert!(tokio::time::Instant::now() < deadline, "only {} delivered", ids.len());
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

impl TestApp {
    /// Returns once a statement of this test's database waits for a row
    /// lock (PostgreSQL), so a test can release the lock knowing the other
    /// side got as far as wanting it. SQLite's writers queue in process,
    /// where nothing shows it; there it gives the other side 300 ms.
    pub async fn until_someone_waits_for_a_lock(&self) {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let db = self.state.db.conn();
        if db.get_database_backend() != DbBackend::Postgres {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            return;
        }
        let sql = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "nothing came to wait for the lock");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
