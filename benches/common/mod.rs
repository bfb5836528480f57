//! What the load benchmarks share: settings from the environment, latency
//! percentiles, and the seeded bench database (reused across runs).
#![allow(dead_code)]
use std::time::{Duration, Instant};

use greenchannel::{config::Settings, services, store::Db};

pub fn env<T: std::str::FromStr>(k: &str, default: T) -> T {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Which suite run (benches/suite.sh) a result line belongs to.
pub fn run_id() -> String {
    std::env::var("BENCH_RUN").unwrap_or_default()
}

pub struct Stats {
    pub samples: Vec<Duration>,
}

impl Stats {
    pub fn pct(&self, p: f64) -> f64 {
        let mut v = self.samples.clone();
        v.sort();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }
}

/// A database of `n` seeded enterprises, reused across runs when it exists.
/// The flows benchmark registers thousands of enterprises per run; once a
/// database holds 5% more than `n` it is dropped and seeded again, so a
/// figure labelled 10 000 is measured at 10 000.
pub async fn database(n: u64) -> (Settings, String) {
    loop {
        let (s, label, have) = open(n).await;
        if have <= n + n / 20 {
            return (s, label);
        }
        eprintln!("the {label} bench database for {n} holds {have} enterprises: recreating it");
        drop_database(n).await;
    }
}

async fn drop_database(n: u64) {
    use sea_orm::{ConnectionTrait, Database};
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            let conn = Database::connect(&admin).await.expect("BENCH_DATABASE_URL");
            conn.execute_unprepared(&format!("DROP DATABASE gc_bench_{n} WITH (FORCE)")).await.unwrap();
        }
        Err(_) => std::fs::remove_dir_all(sqlite_dir(n)).unwrap(),
    }
}

fn sqlite_dir(n: u64) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/sqlite-{n}"))
}

/// Opens (creating and seeding up to `n` when short) the bench database;
/// returns how many enterprises it holds.
async fn open(n: u64) -> (Settings, String, u64) {
    let mut s = Settings {
        dev: true,
        auto_approval: true,
        db_max_connections: env("BENCH_DB_CONNECTIONS", 16),
        ..Default::default()
    };
    s.bind = "127.0.0.1:0".parse().unwrap();
    let label;
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            use sea_orm::{ConnectionTrait, Database};
            let name = format!("gc_bench_{n}");
            let conn = Database::connect(&admin).await.expect("BENCH_DATABASE_URL");
            let exists = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    conn.get_database_backend(),
                    format!("SELECT 1 AS x FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .unwrap()
                .is_some();
            if !exists {
                conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            }
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            s.database_url = Some(url.to_string().into());

            label = "PostgreSQL".to_string();
        }
        Err(_) => {
            let dir = sqlite_dir(n);
            std::fs::create_dir_all(&dir).unwrap();
            s.data_dir = dir;
            label = "SQLite".to_string();
        }
    }
    let db = Db::connect(&s).await.unwrap();
    db.migrate().await.unwrap();
    use sea_orm::{EntityTrait, PaginatorTrait};
    let have = entities::enterprise::Entity::find().count(db.conn()).await.unwrap();
    let mut have = have;
    if have < n {
        eprintln!("seeding {} enterprises into the {label} bench database…", n - have);
        let start = Instant::now();
        services::seed::seed_db(&db, n - have, 1 + have, |d| {
            if d % 100_000 == 0 {
                eprintln!("  {d}");
            }
        })
        .await
        .unwrap();
        eprintln!("seeded in {:.1}s", start.elapsed().as_secs_f64());
        have = n;
    }
    db.close().await;
    (s, label, have)
}

/// A realistic licence: an online shop with 24 scope items (PDF benches).
pub fn sample_licence() -> greenchannel::domain::licence::LicenceContent {
    use chrono::{NaiveDate, TimeZone, Utc};
    use greenchannel::domain::{
        licence::{Field, LicenceContent},
        scope,
    };
    let f = |label: &str, value: &str| Field { label: label.into(), value: value.into() };
    let shop = "网络经营场所：淘宝网 https://shop574839201.taobao.com";
    let items: Vec<_> = scope::all().iter().take(24).collect();
    LicenceContent {
        uscc: "92610727MA6Y8K3L4X".into(),
        version: 1,
        name: Some("略阳县禾木记土特产网店".into()),
        entity_type: "individual_business".into(),
        fields: vec![
            f("名称", "略阳县禾木记土特产网店"),
            f("类型", "个体工商户"),
            f("经营者", "欧阳堃喆"),
            f("组成形式", "个人经营"),
            f("注册日期", "2025年03月14日"),
            f("经营场所", shop),
        ],
        scope_lines: scope::licence_lines(&items, true),
        premises: vec![shop.into()],
        authority_code: "610727".into(),
        authority_name: "略阳县市场监督管理局".into(),
        established_on: NaiveDate::from_ymd_opt(2025, 3, 14).unwrap(),
        issued_at: Utc.with_ymd_and_hms(2025, 3, 13, 17, 30, 0).unwrap(),
    }
}
