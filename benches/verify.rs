//! Verification and licence documents over HTTP, measured with wrk against
//! this process's server on 127.0.0.1 (same code as `serve`), on a seeded
//! database; each figure next to `/healthz` of the same server in the same
//! run (before and after, averaged), since the machine is shared and noisy.
//!
//! ```sh
//! cargo bench --bench verify                                   # SQLite, 10 000 enterprises
//! BENCH_ENTERPRISES=1000000 cargo bench --bench verify         # 1M (seeded once, then reused)
//! BENCH_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres BENCH_ENTERPRISES=1000000 cargo bench --bench verify
//! ```
//! Credentials are minted exactly as the licences carry them, for
//! `BENCH_SAMPLE` (default 100 000) enterprises drawn at random; wrk picks
//! one at random per request (benches/wrk/random_path.lua). A warm-up pass
//! precedes each measurement. The batch figure is the median over
//! `BENCH_BATCHES` requests of 1 000 mixed items (half credentials, half
//! code and name), with the caches warm and, separately, cleared first.
//! Prints a markdown table; appends JSON lines to `bench-results/verify.jsonl`.
mod common;

use std::{path::PathBuf, process::Command, time::Instant};

use common::{database, env};
use greenchannel::{
    domain::principal::Actor,
    services::{self, licence_documents::VersionFacts},
    startup::Application,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn ms(v: &str) -> f64 {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let x: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => x / 1000.0,
        "ms" => x,
        "s" => x * 1000.0,
        _ => f64::NAN,
    }
}

/// Runs wrk (-t2 -c64 --latency) and reads its summary.
fn wrk(url: &str, seconds: u64, script: Option<(&PathBuf, &str, &str, Option<&str>)>) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"]);
    if let Some((lines, prefix, suffix, token)) = script {
        let lua = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/wrk/random_path.lua");
        cmd.arg("-s").arg(lua).env("WRK_LINES", lines).env("WRK_PREFIX", prefix).env("WRK_SUFFIX", suffix);
        if let Some(t) = token {
            cmd.env("WRK_TOKEN", t);
        }
    }
    let out = cmd.arg(url).output().expect("wrk (Debian package wrk) is needed for this benchmark");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let field = |label: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(label).map(|r| r.trim().to_string())).unwrap_or_default()
    };
    Wrk {
        rps: field("Requests/sec:").parse().unwrap_or(f64::NAN),
        p50_ms: ms(&field("50%")),
        p99_ms: ms(&field("99%")),
        non_2xx: field("Non-2xx or 3xx responses:").parse().unwrap_or(0),
    }
}

/// Every credential checked once, in batches of 1 000: how a platform
/// (and so these benchmarks) loads a working set into the caches.
async fn check_all(base: &str, key: &str, creds: &[String]) {
    let client = reqwest::Client::new();
    for chunk in creds.chunks(1000) {
        let items: Vec<Value> = chunk.iter().map(|c| json!({ "credential": c })).collect();
        let r = client
            .post(format!("{base}/api/v1/platform/verifications"))
            .bearer_auth(key)
            .json(&json!({ "items": items }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// Resident set size of this process (server and client), in MB.
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").to_string()))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

fn main() {
    let n: u64 = env("BENCH_ENTERPRISES", 10_000);
    let seconds: u64 = env("BENCH_SECONDS", 10);
    let sample: u64 = env("BENCH_SAMPLE", 100_000u64).min(n);
    let batches: usize = env("BENCH_BATCHES", 30);
    let rt = tokio::runtime::Builder::new_multi_thread().thread_name("server").enable_all().build().unwrap();
    greenchannel::telemetry::init(greenchannel::config::LogFormat::Text);
    let (mut settings, engine) = rt.block_on(database(n));
    // The limiter still runs on every request; it must not be what is measured.
    settings.platform_verify_per_second = 100_000_000;
    settings.verify_cache_entries = env("BENCH_CACHE_ENTRIES", 1_000_000);
    settings.delivery_worker = false;
    let app = rt.block_on(Application::build(settings)).unwrap();
    let state = app.state().clone();
    let base = format!("http://{}", app.addr());
    rt.spawn(app.run_until(std::future::pending()));

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let (creds, usccs, names) = rt.block_on(async {
        let backend = state.db.backend();
        let rows = state
            .db
            .conn()
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT e.uscc, e.name, l.version, l.issued_at, l.signing_kid FROM enterprises e
                     JOIN licence_versions l ON l.enterprise_id = e.id AND l.version = e.licence_version
                     ORDER BY random() LIMIT {sample}"
                ),
            ))
            .await
            .unwrap();
        let (mut creds, mut usccs, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let uscc: String = r.try_get("", "uscc").unwrap();
            let facts = VersionFacts {
                uscc: uscc.clone(),
                version: r.try_get("", "version").unwrap(),
                issued_at: r.try_get("", "issued_at").unwrap(),
                signing_kid: r.try_get("", "signing_kid").unwrap(),
            };
            creds.push(services::licence_documents::mint(&state, &facts, None).unwrap());
            names.push(r.try_get::<Option<String>>("", "name").unwrap());
            usccs.push(uscc);
        }
        (creds, usccs, names)
    });
    let creds_file = dir.join("verify-credentials.txt");
    std::fs::write(&creds_file, creds.join("\n") + "\n").unwrap();
    let pdf_file = dir.join("verify-usccs.txt");
    std::fs::write(&pdf_file, usccs.iter().take(500).cloned().collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let key = rt
        .block_on(services::auth::create_api_key(
            &state,
            &Actor { role: "admin", id: "bench".into(), channel: None },
            services::auth::NewApiKey {
                role: "platform".into(),
                authority: None,
                department: None,
                platform: Some("bench".into()),
                host: None,
                name: None,
                expires_at: None,
            },
        ))
        .unwrap()
        .key;

    let health = format!("{base}/healthz");
    let mut rows: Vec<Value> = Vec::new();
    let mut push = |scenario: &str, w: &Wrk, healthz: f64| {
        eprintln!("{scenario}: {:.0} req/s, p99 {:.2} ms (healthz {healthz:.0})", w.rps, w.p99_ms);
        rows.push(json!({ "engine": engine, "enterprises": n, "scenario": scenario, "rps": w.rps, "p50_ms": w.p50_ms, "p99_ms": w.p99_ms, "healthz_rps": healthz, "ratio": w.rps / healthz, "non_2xx": w.non_2xx }));
    };

    // Verification: the caches hold the working set (every sampled
    // credential, loaded by batch verification in bulk, then a wrk pass),
    // measured between /healthz runs. The cold cost is the cleared-cache
    // batch figure below.
    let verify_script = Some((&creds_file, "/api/v1/verify/", "", Some(key.as_str())));
    let warm = Instant::now();
    rt.block_on(check_all(&base, &key, &creds));
    wrk(&base, seconds.min(5), verify_script);
    eprintln!(
        "warm-up {:.1}s, cache {} entries, RSS {} MB",
        warm.elapsed().as_secs_f64(),
        state.standings.entries(),
        rss_mb()
    );
    // The client's share of the two cores differs with a script (a random
    // path per request, built in Lua): /healthz is also measured through the
    // same script, and the verification ratio is reported against both.
    let health_file = dir.join("verify-healthz.txt");
    std::fs::write(&health_file, "healthz\n").unwrap();
    let health_script = Some((&health_file, "/", "", Some(key.as_str())));
    let h1 = wrk(&health, seconds, None);
    let hs1 = wrk(&base, seconds, health_script);
    let v = wrk(&base, seconds, verify_script);
    let hs2 = wrk(&base, seconds, health_script);
    let h2 = wrk(&health, seconds, None);
    let healthz = (h1.rps + h2.rps) / 2.0;
    let healthz_scripted = (hs1.rps + hs2.rps) / 2.0;
    push(
        "GET /healthz",
        &Wrk { rps: healthz, p50_ms: h1.p50_ms, p99_ms: h1.p99_ms.max(h2.p99_ms), non_2xx: 0 },
        healthz,
    );
    push(
        "GET /healthz through the same wrk script",
        &Wrk { rps: healthz_scripted, p50_ms: hs1.p50_ms, p99_ms: hs1.p99_ms.max(hs2.p99_ms), non_2xx: 0 },
        healthz,
    );
    let label = format!("GET /api/v1/verify/{{credential}} ({} distinct)", creds.len());
    push(&label, &v, healthz);
    push(&format!("{label}, against scripted /healthz"), &v, healthz_scripted);

    // Licence PDFs: 500 enterprises, rendered once each then served from cache.
    let pdf_script = Some((&pdf_file, "/api/v1/enterprises/", "/licence.pdf", None));
    wrk(&base, seconds.min(5), pdf_script);
    let h3 = wrk(&health, seconds, None);
    let p = wrk(&base, seconds, pdf_script);
    push("GET /api/v1/enterprises/{uscc}/licence.pdf (500 distinct, 200 with body)", &p, h3.rps);

    // Batches of 1 000 mixed items.
    let client = reqwest::Client::new();
    let batch = |i: usize| {
        let items: Vec<Value> = (0..1000)
            .map(|k| {
                let j = (i * 7919 + k * 31) % creds.len();
                if k % 2 == 0 {
                    json!({ "credential": creds[j] })
                } else {
                    json!({ "uscc": usccs[j], "name": names[j] })
                }
            })
            .collect();
        let body = json!({ "items": items });
        rt.block_on(async {
            let start = Instant::now();
            let r = client
                .post(format!("{base}/api/v1/platform/verifications"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["results"].as_array().unwrap().len(), 1000);
            start.elapsed().as_secs_f64() * 1000.0
        })
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[(v.len() as f64 * 0.9) as usize].max(v[v.len() / 2]))
    };
    let warm: Vec<f64> = (0..batches).map(batch).collect();
    let cold: Vec<f64> = (0..batches.min(10))
        .map(|i| {
            state.standings.clear();
            state.verifier.forget_checked();
            batch(i + 1000)
        })
        .collect();
    for (label, times) in [("warm caches", warm), ("caches cleared before each", cold)] {
        let (p50, p90) = median(times);
        eprintln!("batch of 1000, {label}: median {p50:.1} ms, p90 {p90:.1} ms");
        rows.push(json!({ "engine": engine, "enterprises": n, "scenario": format!("POST /api/v1/platform/verifications, 1 000 items, {label}"), "p50_ms": p50, "p90_ms": p90 }));
    }

    // Resident memory of the server alone: the `greenchannel` binary with its
    // default settings on the same database, under the same verification
    // load (every sampled credential checked in batches, then wrk).
    {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenchannel"));
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("GREENCHANNEL_DATA_DIR", &state.settings.data_dir)
            .env("GREENCHANNEL_PLATFORM_VERIFY_PER_SECOND", "100000000")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null());
        if let Some(u) = &state.settings.database_url {
            cmd.env("DATABASE_URL", secrecy::ExposeSecret::expose_secret(u));
        }
        let mut child = cmd.spawn().unwrap();
        let child_base = format!("http://127.0.0.1:{port}");
        let status = |field: &str| -> u64 {
            std::fs::read_to_string(format!("/proc/{}/status", child.id()))
                .ok()
                .and_then(|s| {
                    s.lines().find_map(|l| l.strip_prefix(field).map(|v| v.trim().trim_end_matches(" kB").to_string()))
                })
                .and_then(|v| v.parse::<u64>().ok())
                .map(|kb| kb / 1024)
                .unwrap_or(0)
        };
        rt.block_on(async {
            let client = reqwest::Client::new();
            while client.get(format!("{child_base}/healthz")).send().await.is_err() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        });
        let idle = status("VmRSS:");
        rt.block_on(check_all(&child_base, &key, &creds));
        let w = wrk(&child_base, seconds, verify_script);
        let (rss, peak) = (status("VmRSS:"), status("VmHWM:"));
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("server process: RSS idle {idle} MB, under load {rss} MB, peak {peak} MB ({:.0} req/s)", w.rps);
        rows.push(json!({ "engine": engine, "enterprises": n, "scenario": format!("server process RSS under verification load ({} distinct credentials, default settings): {rss} MB, peak {peak} MB, idle {idle} MB", creds.len()), "rss_mb": rss, "peak_rss_mb": peak, "idle_rss_mb": idle, "rps": w.rps }));
    }

    println!("\n| engine | enterprises | scenario | req/s | × healthz | p50 ms | p99 ms |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&out).unwrap();
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(out.join("verify.jsonl")).unwrap();
    for r in rows {
        let f = |k: &str, d: usize| r[k].as_f64().map(|v| format!("{v:.d$}")).unwrap_or_default();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r["engine"].as_str().unwrap(),
            n,
            r["scenario"].as_str().unwrap(),
            f("rps", 0),
            f("ratio", 2),
            f("p50_ms", 2),
            f("p99_ms", 2)
        );
        use std::io::Write;
        writeln!(log, "{}", json!({ "at": chrono::Utc::now(), "run": common::run_id(), "row": r })).unwrap();
    }
}
