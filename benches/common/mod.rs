//! What the load benchmarks share: settings from the environment, latency
//! percentiles, and the seeded bench database (reused across runs).
#![allow(dead_code)]
use std::time::{Duration, Instant};

use greenchannel::{config::Settings, services, store::Db};

pub fn env<T: std::str::FromStr>(k: &str, default: T) -> T {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
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
pub async fn database(n: u64) -> (Settings, String) {
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
            let dir =
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/sqlite-{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            s.data_dir = dir;
            label = "SQLite".to_string();
        }
    }
    let db = Db::connect(&s).await.unwrap();
    db.migrate().await.unwrap();
    use sea_orm::{EntityTrait, PaginatorTrait};
    let have = entities::enterprise::Entity::find().count(db.conn()).await.unwrap();
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
    }
    db.close().await;
    (s, label)
}
