//! Whole-server load, measured over HTTP on 127.0.0.1 against a seeded
//! database: the server runs in this process (same code as `serve`), the
//! client too, sharing the machine's cores as wrk would.
//!
//! ```sh
//! cargo bench --bench load                                   # SQLite, 10 000 enterprises
//! BENCH_ENTERPRISES=1000000 cargo bench --bench load         # 1M (seeded once, then reused)
//! BENCH_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres cargo bench --bench load
//! BENCH_SCENARIOS=name_check,flows BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONCURRENCY=32 cargo bench --bench load
//! ```
//! Prints one markdown table; also appends JSON lines to `bench-results/load.jsonl`.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

mod common;

use common::{Stats, database, env};
use greenchannel::{domain::resident_id, startup::Application};
use serde_json::{Value, json};

/// The allocator the `greenchannel` binary uses, so the server measured here
/// behaves as the one deployed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn assertion(name: &str, id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": "dev", "sub": id, "name": name, "id_number": id, "iat": now, "exp": now + 300, "jti": uuid::Uuid::new_v4().to_string() });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"dev-secret"),
    )
    .unwrap()
}

fn person(n: u64) -> String {
    let first17 =
        format!("610727{}{:02}{:02}{:03}", 1950 + n % 50, 1 + n / 50 % 12, 1 + n / 600 % 28, n / 16800 % 1000);
    format!("{first17}{}", resident_id::check_char(first17.as_bytes()))
}

async fn name_checks(base: &str, client: &reqwest::Client, concurrency: usize, total: usize) -> Stats {
    let token = {
        let r: Value = client
            .post(format!("{base}/api/v1/auth/channel"))
            .json(&json!({ "channel": "dev", "assertion": assertion("基准", &person(999_999)) }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().unwrap().to_string()
    };
    let trade: Vec<char> =
        "青禾秦巴山珍嘉陵江汉水龙凤金银星月春秋华夏东方南北兴盛隆昌泰和顺达通利源丰裕".chars().collect();
    let next = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (client, base, token, next, trade) =
            (client.clone(), base.to_string(), token.clone(), next.clone(), trade.clone());
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total {
                    break;
                }
                let name =
                    format!("略阳县{}{}电子商务店", trade[i % trade.len()], trade[(i / trade.len()) % trade.len()]);
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/name-checks"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": name, "entity_type": "individual_business", "admin_code": "610727" }))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
                let _ = r.bytes().await;
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for h in handles {
        samples.extend(h.await.unwrap());
    }
    Stats { samples }
}

/// Sign-in → draft → signature → submission (auto-approved) per flow.
async fn flows(base: &str, client: &reqwest::Client, concurrency: usize, seconds: u64) -> (f64, Stats, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(rand_base()));
    let failures = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (client, base, stop, seq, failures) =
            (client.clone(), base.to_string(), stop.clone(), seq.clone(), failures.clone());
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let id = person(n);
                let t = Instant::now();
                match one_flow(&client, &base, n, &id).await {
                    Ok(()) => samples.push(t.elapsed()),
                    Err(e) => {
                        if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("flow failed: {e}");
                        }
                    }
                }
            }
            samples
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for h in handles {
        samples.extend(h.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    (samples.len() as f64 / elapsed, Stats { samples }, failures.load(Ordering::Relaxed))
}

fn rand_base() -> u64 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000) as u64
}

async fn one_flow(client: &reqwest::Client, base: &str, n: u64, id: &str) -> Result<(), String> {
    let post = |path: String, token: Option<String>, body: Option<Value>, key: Option<String>| {
        let mut rb = client.post(format!("{base}{path}"));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        async move {
            let r = rb.send().await.map_err(|e| e.to_string())?;
            let status = r.status();
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            if status.is_success() { Ok(v) } else { Err(format!("{status}: {v}")) }
        }
    };
    let session = post(
        "/api/v1/auth/channel".into(),
        None,
        Some(json!({ "channel": "dev", "assertion": assertion("流程", id) })),
        None,
    )
    .await?;
    let token = session["token"].as_str().ok_or("no token")?.to_string();
    let form = json!({
        "kind": "establish", "entity_type": "individual_business", "admin_code": "610727",
        "parties": [{ "name": "流程", "id_number": id, "roles": ["operator"] }],
        "scope": ["G1001"], "premises": [{ "kind": "online", "platform": "某电商平台", "url": format!("https://bench.example.com/{n}") }],
    });
    let draft = post("/api/v1/applications".into(), Some(token.clone()), Some(form), None).await?;
    let app = draft["id"].as_str().ok_or("no id")?.to_string();
    post(format!("/api/v1/applications/{app}/signatures"), Some(token.clone()), None, None).await?;
    let done =
        post(format!("/api/v1/applications/{app}/submit"), Some(token), None, Some(format!("bench-{n}"))).await?;
    if done["status"] != "approved" {
        return Err(format!("not approved: {}", done["status"]));
    }
    Ok(())
}

/// A minimal receiver on 127.0.0.1 that answers 200 and counts.
async fn receiver(counter: Arc<AtomicU64>) -> String {
    use poem::{
        EndpointExt, Route, handler,
        listener::{Acceptor, Listener, TcpListener},
        web::Data,
    };
    #[handler]
    async fn hook(c: Data<&Arc<AtomicU64>>) -> &'static str {
        c.fetch_add(1, Ordering::Relaxed);
        "ok"
    }
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    tokio::spawn(
        poem::Server::new_with_acceptor(acceptor).run(Route::new().at("/hook", poem::post(hook)).data(counter)),
    );
    format!("http://{addr}/hook")
}

/// Queues `n` outbox messages for a department whose webhook is a local
/// receiver, then times the server's worker delivering all of them.
async fn webhooks(state: &greenchannel::state::AppState, n: u64) -> f64 {
    let counter = Arc::new(AtomicU64::new(0));
    let url = receiver(counter.clone()).await;
    let now = chrono::Utc::now();
    let tx = state.db.write().await.unwrap();
    greenchannel::store::notifications::upsert_department(
        &tx,
        entities::department::Model {
            code: "BENCH".into(),
            name: "基准部门".into(),
            kind: "market_regulation".into(),
            admin_code: "610727".into(),
            webhook_url: Some(url),
            webhook_secret: Some("bench-webhook-secret-000001".into()),
            claim_days: 5,
            feedback_days: 20,
            created_at: now,
            disabled_at: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let start = Instant::now();
    for chunk in 0..n.div_ceil(5_000) {
        let tx = state.db.write().await.unwrap();
        let m = (chunk * 5_000..((chunk + 1) * 5_000).min(n))
            .map(|i| greenchannel::store::outbox::NewMessage {
                topic: "notification.pushed".into(),
                target_kind: "department",
                target_id: "BENCH".into(),
                payload: format!("{{\"n\":{i}}}"),
            })
            .collect();
        greenchannel::store::outbox::enqueue(&tx, m, chrono::Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
    }
    while counter.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let n: u64 = env("BENCH_ENTERPRISES", 10_000);
    let seconds: u64 = env("BENCH_SECONDS", 10);
    let concurrency: usize = env("BENCH_CONCURRENCY", 32);
    let scenarios: String = env("BENCH_SCENARIOS", "name_check,flows,webhooks".to_string());
    // Server and client on separate runtimes (thread names `server`,
    // `client`) so `top -H` or perf can tell their CPU apart.
    let server_rt = tokio::runtime::Builder::new_multi_thread().thread_name("server").enable_all().build().unwrap();
    greenchannel::telemetry::init(greenchannel::config::LogFormat::Text);
    let (settings, engine) = server_rt.block_on(database(n));
    let app = server_rt.block_on(Application::build(settings)).unwrap();
    let state = app.state().clone();
    let base = format!("http://{}", app.addr());
    server_rt.spawn(app.run_until(std::future::pending()));
    let client_rt = tokio::runtime::Builder::new_multi_thread().thread_name("client").enable_all().build().unwrap();
    client_rt.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();

        let mut rows = Vec::new();
        if scenarios.contains("name_check") {
            // The first pass over the names reads their index pages from
            // disk or the OS cache (at 1M they are not in PostgreSQL's
            // buffers yet); the passes after it show the steady state a
            // bureau answering name checks all day runs in. Both reported.
            for (label, c) in [("name check, first pass, concurrency 1", 1usize), ("name check, concurrency 1", 1), ("name check, concurrency 16", 16)] {
                let total = if c == 1 { 2_000 } else { 10_000 };
                let st = name_checks(&base, &client, c, total).await;
                rows.push(json!({ "engine": engine, "enterprises": n, "scenario": label, "p50_ms": st.pct(0.5), "p99_ms": st.pct(0.99), "requests": st.samples.len() }));
            }
        }
        if scenarios.contains("webhooks") {
            let count = env("BENCH_WEBHOOKS", 20_000u64);
            let rate = webhooks(&state, count).await;
            rows.push(json!({ "engine": engine, "enterprises": n, "scenario": format!("webhook deliveries ({count}) to a local receiver"), "per_second": rate }));
        }
        if scenarios.contains("flows") {
            // Rounds back to back, reported by their median: on a shared
            // machine one round's rate moves by a fifth with the neighbours.
            let rounds: usize = env("BENCH_ROUNDS", 3);
            // A freshly seeded database has no applications, signatures or
            // premises yet, and PostgreSQL plans its prepared statements for
            // those empty tables (sequential scans, kept per connection as
            // the tables grow). On a live system autovacuum's ANALYZE
            // replaces those plans within a minute; here a 3-second warm-up
            // fills the tables and an ANALYZE does the same before measuring.
            if state.db.backend() == sea_orm::DbBackend::Postgres {
                flows(&base, &client, concurrency, 3).await;
                use sea_orm::ConnectionTrait;
                state.db.conn().execute_unprepared("ANALYZE").await.unwrap();
            }
            let (mut rates, mut all, mut failed) = (Vec::new(), Vec::new(), 0);
            for _ in 0..rounds.max(1) {
                let (rate, st, failures) = flows(&base, &client, concurrency, seconds).await;
                rates.push(rate);
                all.extend(st.samples);
                failed += failures;
            }
            let st = Stats { samples: all };
            let mut sorted = rates.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            rows.push(json!({ "engine": engine, "enterprises": n, "scenario": format!("establishment flows, concurrency {concurrency}"), "per_second": median, "rounds": rates, "p50_ms": st.pct(0.5), "p99_ms": st.pct(0.99), "failures": failed }));
        }
        println!("\n| engine | enterprises | scenario | per second | p50 ms | p99 ms |");
        println!("| --- | --- | --- | --- | --- | --- |");
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-results");
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("load.jsonl")).unwrap();
        for r in rows {
            let f = |k: &str| r[k].as_f64().map(|v| format!("{v:.1}")).unwrap_or_else(|| "".into());
            println!("| {} | {} | {} | {} | {} | {} |", r["engine"].as_str().unwrap(), n, r["scenario"].as_str().unwrap(), f("per_second"), f("p50_ms"), f("p99_ms"));
            use std::io::Write;
            writeln!(log, "{}", json!({ "at": chrono::Utc::now(), "run": common::run_id(), "row": r })).unwrap();
        }
    });
}
