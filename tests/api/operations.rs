//! Health, readiness, metrics, logs and shutdown, as an operator sees them.
use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    time::Duration,
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let h = app.request(reqwest::Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(h.ok()["status"], "ok");
    let r = app.request(reqwest::Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(r.ok()["status"], "ready");
    app.request(reqwest::Method::GET, "/api/v1/nowhere", None, None, &[]).await;
    let m = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("http_requests_total{operation=\"healthz\",method=\"GET\",status=\"200\"}"), "{m}");
    assert!(m.contains("http_request_duration_seconds_bucket{operation=\"readyz\""), "{m}");
    assert!(m.contains("status=\"404\""));
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let mut app = spawn_app().await;
    // A client that is half-way through sending its request when the stop comes.
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let body = br#"{"channel":"dev","assertion":"x.y.z"}"#;
    let head = format!(
        "POST /api/v1/auth/channel HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(async move {
        app.stop().await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.write_all(&body[10..]).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 401"), "the request was answered: {resp}");
    assert!(resp.contains("assertion_malformed"));
    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("server stopped").unwrap();
}

/// Runs the real binary: JSON logs, SIGTERM, and `keys create` printing the
/// key alone on its last line.
#[test]
fn the_binary_logs_json_creates_keys_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_greenchannel");
    let mut env: Vec<(&str, String)> =
        vec![("GREENCHANNEL_DATA_DIR", dir.path().display().to_string()), ("GREENCHANNEL_LOG_FORMAT", "json".into())];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        env.push(("DATABASE_URL", rt.block_on(fresh_postgres_database(&url))));
    }
    let out = Command::new(bin)
        .args(["keys", "create", "--role", "reviewer", "--authority", COUNTY, "--name", "窗口"])
        .envs(env.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_string();
    assert!(key.starts_with("gck_") && !key.contains(' '), "last line is the key alone: {stdout:?}");

    let mut child = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("log line is JSON: {line}"));
        if v["message"] == "greenchannel serving" {
            addr = v["addr"].as_str().map(String::from);
            break;
        }
    }
    let addr = addr.expect("serving line");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(s, "GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"authority\":\"610727\""));

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exits cleanly on SIGTERM: {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("greenchannel stopped")), "{rest:?}");
    assert!(rest.iter().all(|l| !l.contains(&key)), "keys are never logged");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&key), "the key is printed once, on stdout");
}
