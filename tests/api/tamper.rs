//! Tamper evidence: the audit trail is sealed into a hash chain, and
//! `greenchannel audit verify` names the first broken link after a row is
//! edited, deleted or the newest rows are cut off.
use std::time::Duration;

use entities::audit_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Statement};
use secrecy::ExposeSecret;

use crate::helpers::*;

/// Runs `greenchannel audit <cmd>` against the app's database, as an
/// operator would: (exit status, stdout).
async fn audit_cli(app: &TestApp, cmd: &str) -> (i32, String) {
    let url = app.state.settings.database_url.as_ref().map(|u| u.expose_secret().to_string());
    audit_cli_at(&app.state.settings.data_dir, url.as_deref(), cmd).await
}

/// The same against a data directory (SQLite's `greenchannel.db`) or a URL.
async fn audit_cli_at(data_dir: &std::path::Path, url: Option<&str>, cmd: &str) -> (i32, String) {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_greenchannel"));
    c.args(["audit", cmd]).env("GREENCHANNEL_DATA_DIR", data_dir).env("RUST_LOG", "error");
    if let Some(u) = url {
        c.env("DATABASE_URL", u);
    }
    let out = c.output().await.unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.state.db.conn();
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap();
    row.unwrap().try_get("", "n").unwrap()
}

async fn exec(app: &TestApp, sql: &str) {
    let db = app.state.db.conn();
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap();
}

/// The event sealed at `seq`, and that link's stored hash.
async fn link(app: &TestApp, seq: i64) -> (audit_event::Model, String) {
    let db = app.state.db.conn();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT event_id, hash FROM audit_links WHERE seq = {seq}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let id: i64 = row.try_get("", "event_id").unwrap();
    (audit_event::Entity::find_by_id(id).one(db).await.unwrap().unwrap(), row.try_get("", "hash").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_broken_link_after_an_edit_a_deletion_or_a_cut_tail() {
    let app = spawn_app_with(|s| s.audit_seal_ms = 50).await;
    app.establish_shop(&Person::new("链条甲"), None).await;
    app.establish_shop(&Person::new("链条乙"), None).await;

    // Every event gets sealed by the running server.
    let mut links = 0;
    for _ in 0..200 {
        let r = greenchannel::services::audit::verify_chain(app.state.db.conn()).await.unwrap();
        links = r.result.as_ref().expect("an untouched chain verifies").links;
        if r.unsealed == 0 && links > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(links >= 10, "two establishments leave a trail: {links} links");
    // What follows is an attacker with write access to the database.
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("audit chain intact: {links} links")), "{out}");

    // 1. Editing any column of a sealed row breaks exactly that link; putting
    //    the original back mends it (the check is exact, not heuristic).
    let (third, _) = link(&app, 3).await;
    exec(&app, &format!("UPDATE audit_events SET actor_id = 'someone-else' WHERE id = {}", third.id)).await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("link 3 (audit event {}) was altered", third.id)), "{out}");
    exec(&app, &format!("UPDATE audit_events SET actor_id = '{}' WHERE id = {}", third.actor_id, third.id)).await;
    assert_eq!(audit_cli(&app, "verify").await.0, 0);

    // Re-hashing the edited row to match does not help: the next link says so.
    let (fifth, fifth_hash) = link(&app, 5).await;
    exec(&app, &format!("UPDATE audit_events SET detail = '{{\"forged\":true}}' WHERE id = {}", fifth.id)).await;
    exec(&app, &format!("UPDATE audit_links SET hash = '{}' WHERE seq = 5", "ab".repeat(32))).await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(out.contains("link 5 ") && out.contains("was altered"), "{out}");
    // Deleted and put back (on SQLite the insert trigger queues it for
    // sealing again; the sealer sees it is sealed already, takes it off the
    // queue and leaves the chain as it was).
    audit_event::Entity::delete_by_id(fifth.id).exec(app.state.db.conn()).await.unwrap();
    fifth.clone().into_active_model().reset_all().insert(app.state.db.conn()).await.unwrap();
    exec(&app, &format!("UPDATE audit_links SET hash = '{fifth_hash}' WHERE seq = 5")).await;
    for _ in 0..100 {
        if count(&app, "SELECT COUNT(*) AS n FROM audit_pending").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM audit_pending").await, 0);
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 0, "restored row verifies again: {out}");
    assert!(out.contains(&format!("audit chain intact: {links} links")), "{out}");

    // 2. Deleting an event leaves its link without it; deleting the link
    //    too leaves a hole. The walk reports either.
    let (seventh, seventh_hash) = link(&app, 7).await;
    audit_event::Entity::delete_by_id(seventh.id).exec(app.state.db.conn()).await.unwrap();
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(out.contains(&format!("link 7 (audit event {}) has no event: the event was deleted", seventh.id)), "{out}");
    exec(&app, "DELETE FROM audit_links WHERE seq = 7").await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(out.contains("link 7 is missing: the next sealed link is 8"), "{out}");
    // The link goes back first, so the sealer finds the event sealed.
    exec(&app, &format!("INSERT INTO audit_links (seq, event_id, hash) VALUES (7, {}, '{seventh_hash}')", seventh.id))
        .await;
    seventh.clone().into_active_model().reset_all().insert(app.state.db.conn()).await.unwrap();
    assert_eq!(audit_cli(&app, "verify").await.0, 0);

    // 3. Cutting off the newest rows leaves a chain shorter than its head.
    exec(
        &app,
        &format!("DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_links WHERE seq >= {})", links - 1),
    )
    .await;
    exec(&app, &format!("DELETE FROM audit_links WHERE seq >= {}", links - 1)).await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("the chain ends at link {} but its recorded head is link {links}", links - 2)),
        "{out}"
    );
    // The head can be read out and kept elsewhere.
    let (code, head) = audit_cli(&app, "head").await;
    assert_eq!(code, 0);
    assert!(head.starts_with(&format!("{links} ")), "{head}");
}

/// An upgrade from the schema where links were columns of `audit_events`:
/// the sealed links move to `audit_links`, the unsealed backlog is queued,
/// the chain still verifies and the backlog is sealed onto it; a downgrade
/// puts the links back.
#[tokio::test]
async fn upgrading_keeps_the_sealed_chain_and_queues_the_unsealed_backlog() {
    use entities::{Migrator, MigratorTrait};
    use greenchannel::{domain::audit_chain::GENESIS, services::audit, store::Db};
    use sea_orm::ActiveValue::Set;

    let dir = tempfile::tempdir().unwrap();
    let pg = match std::env::var("TEST_DATABASE_URL") {
        Ok(u) => Some(fresh_postgres_database(&u).await),
        Err(_) => None,
    };
    let url =
        pg.clone().unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("greenchannel.db").display()));
    let db = Db::connect_url(&url, 2, "FULL").await.unwrap();
    let conn = db.conn();
    let before = Migrator::migrations().iter().position(|m| m.name() == "m20261125_000001_audit_links").unwrap();
    Migrator::up(conn, Some(before as u32)).await.unwrap();

    // Six events as the previous release wrote them, the first four sealed.
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00.123456Z").unwrap().to_utc();
    let mut prev = GENESIS;
    for i in 1..=6i64 {
        let row = audit_event::ActiveModel {
            id: Default::default(),
            occurred_at: Set(t0 + chrono::Duration::seconds(i)),
            actor_role: Set("applicant".into()),
            actor_id: Set(format!("person-{i}")),
            channel: Set(Some("dev".into())),
            action: Set("application.created".into()),
            subject_type: Set("application".into()),
            subject_id: Set(format!("app-{i}")),
            before_version: Set(None),
            after_version: Set(Some(1)),
            detail: Set(format!("{{\"n\":{i}}}")),
        };
        let model = audit_event::Entity::insert(row).exec_with_returning(conn).await.unwrap();
        if i <= 4 {
            prev = audit::link_for(&prev, i, &model);
            let hash = hex::encode(prev);
            exec_on(
                conn,
                &format!("UPDATE audit_events SET chain_seq = {i}, chain_hash = '{hash}' WHERE id = {}", model.id),
            )
            .await;
            exec_on(conn, &format!("UPDATE audit_chain SET seq = {i}, hash = '{hash}' WHERE id = 1")).await;
        }
    }

    Migrator::up(conn, None).await.unwrap();
    let report = audit::verify_chain(conn).await.unwrap();
    assert_eq!(report.result.as_ref().map(|v| v.links), Ok(4), "{:?}", report.result);
    assert_eq!(report.unsealed, 2);
    assert_eq!(audit::seal_pending(&db, chrono::Utc::now()).await.unwrap(), 2);
    let report = audit::verify_chain(conn).await.unwrap();
    assert_eq!(report.result.as_ref().map(|v| v.links), Ok(6), "{:?}", report.result);
    assert_eq!(report.unsealed, 0);
    // New events, written the way every service writes them, are queued and
    // sealed after the carried-over links.
    let tx = db.write().await.unwrap();
    let actor = greenchannel::domain::principal::Actor::system();
    let subject = audit::Subject { kind: "application", id: "app-7" };
    audit::record(&tx, t0, &actor, "application.created", subject, None, Some(1), serde_json::json!({})).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audit::seal_pending(&db, chrono::Utc::now()).await.unwrap(), 1);
    assert_eq!(audit::verify_chain(conn).await.unwrap().result.map(|v| v.links), Ok(7));

    // An event written around the service (not queued on PostgreSQL; queued
    // by the trigger on SQLite and then taken off the queue) is neither
    // sealed nor queued: `audit verify` fails on it, `audit seal` mends it.
    let mut around = audit_event::Entity::find().one(conn).await.unwrap().unwrap().into_active_model();
    around.id = Default::default();
    around.actor_id = Set("written-around".into());
    let around = around.insert(conn).await.unwrap();
    exec_on(conn, &format!("DELETE FROM audit_pending WHERE event_id = {}", around.id)).await;
    assert_eq!(audit::verify_chain(conn).await.unwrap().unqueued, 1);
    let (code, out) = audit_cli_at(dir.path(), pg.as_deref(), "verify").await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 events are neither sealed nor queued"), "{out}");
    let (code, out) = audit_cli_at(dir.path(), pg.as_deref(), "seal").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("queued 1 events") && out.contains("sealed 1 events"), "{out}");
    let (code, out) = audit_cli_at(dir.path(), pg.as_deref(), "verify").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain intact: 8 links"), "{out}");

    Migrator::down(conn, Some(1)).await.unwrap();
    let sealed = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_events WHERE chain_seq IS NOT NULL AND chain_hash IS NOT NULL".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed.try_get::<i64>("", "n").unwrap(), 8);
    db.close().await;
}

async fn exec_on(db: &impl ConnectionTrait, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap();
}
