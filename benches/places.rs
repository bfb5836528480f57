//! One address, many licences at scale: an address (and a host) with
//! 10 000 occupants; listing a page of them and the occupancy checks that
//! submission runs (the concentration count, the host's places taken).
//!
//! `cargo bench --bench places` (SQLite); `BENCH_DATABASE_URL=postgres://…`
//! for PostgreSQL (a fresh database is created next to it).
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use greenchannel::store::{self, Db};
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

const OCCUPANTS: usize = 10_000;

async fn db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            use sea_orm::{ConnectionTrait, Database};
            let name = format!("bench_places_{}", Uuid::new_v4().simple());
            let c = Database::connect(&admin).await.unwrap();
            c.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            let mut u = url::Url::parse(&admin).unwrap();
            u.set_path(&name);
            u.to_string()
        }
        Err(_) => format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
    };
    let db = Db::connect_url(&url, 4, "normal").await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

fn places(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (db, _dir) = rt.block_on(db());
    let (address_id, host_id) = rt.block_on(async {
        let now = Utc::now();
        let tx = db.write().await.unwrap();
        let addr = store::places::find_or_create_address(
            &tx,
            "610727001",
            "610727",
            "滨江路1号产业园",
            "滨江路1号产业园",
            None,
            now,
        )
        .await
        .unwrap();
        let host_id = Uuid::now_v7();
        let rows: Vec<entities::occupancy::ActiveModel> = (0..OCCUPANTS)
            .map(|i| entities::occupancy::ActiveModel {
                id: Set(Uuid::now_v7()),
                address_id: Set(addr.id),
                host_id: Set(Some(host_id)),
                unit_no: Set(Some(i as i32 + 1)),
                enterprise_id: Set(Some(Uuid::now_v7())),
                application_id: Set(None),
                role: Set("domicile".into()),
                state: Set(if i % 10 == 0 { "ended".into() } else { "active".into() }),
                residence: Set(false),
                confirmed_at: Set(None),
                started_at: Set(now),
                ended_at: Set(None),
            })
            .collect();
        for chunk in rows.chunks(500) {
            entities::occupancy::Entity::insert_many(chunk.to_vec()).exec_without_returning(&tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        // As autovacuum would by now: fresh statistics for the planner.
        if db.backend() == sea_orm::DbBackend::Postgres {
            use sea_orm::ConnectionTrait;
            db.conn().execute_unprepared("ANALYZE occupancies").await.unwrap();
        }
        (addr.id, host_id)
    });
    let mut g = c.benchmark_group(format!("places/{OCCUPANTS}_occupants"));
    g.bench_function("list_first_page_of_100", |b| {
        b.to_async(&rt)
            .iter(|| store::places::occupants(db.conn(), Some(address_id), None, &["reserved", "active"], None, 100))
    });
    let late = rt
        .block_on(store::places::occupants(db.conn(), Some(address_id), None, &["reserved", "active"], None, 8_000))
        .unwrap()
        .last()
        .unwrap()
        .id;
    g.bench_function("list_page_after_8000", |b| {
        b.to_async(&rt).iter(|| {
            store::places::occupants(db.conn(), Some(address_id), None, &["reserved", "active"], Some(late), 100)
        })
    });
    g.bench_function("concentration_check", |b| {
        b.to_async(&rt).iter(|| store::places::active_occupants(db.conn(), address_id))
    });
    g.bench_function("host_places_taken", |b| {
        b.to_async(&rt).iter(|| store::places::host_places_taken(db.conn(), host_id))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = places
}
criterion_main!(benches);
