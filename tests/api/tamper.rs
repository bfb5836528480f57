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
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_greenchannel"));
    c.args(["audit", cmd]).env("GREENCHANNEL_DATA_DIR", &app.state.settings.data_dir).env("RUST_LOG", "error");
    if let Some(u) = &app.state.settings.database_url {
        c.env("DATABASE_URL", u.expose_secret());
    }
    let out = c.output().await.unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

async fn exec(app: &TestApp, sql: &str) {
    let db = app.state.db.conn();
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap();
}

async fn link(app: &TestApp, seq: i64) -> audit_event::Model {
    use sea_orm::{ColumnTrait, QueryFilter};
    audit_event::Entity::find()
        .filter(audit_event::Column::ChainSeq.eq(seq))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
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
    let third = link(&app, 3).await;
    exec(&app, &format!("UPDATE audit_events SET actor_id = 'someone-else' WHERE id = {}", third.id)).await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("link 3 (audit event {}) was altered", third.id)), "{out}");
    exec(&app, &format!("UPDATE audit_events SET actor_id = '{}' WHERE id = {}", third.actor_id, third.id)).await;
    assert_eq!(audit_cli(&app, "verify").await.0, 0);

    // Re-hashing the edited row to match does not help: the next link says so.
    let fifth = link(&app, 5).await;
    exec(
        &app,
        &format!(
            "UPDATE audit_events SET detail = '{{\"forged\":true}}', chain_hash = '{}' WHERE id = {}",
            "ab".repeat(32),
            fifth.id
        ),
    )
    .await;
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(out.contains("link 5 ") && out.contains("was altered"), "{out}");
    audit_event::Entity::delete_by_id(fifth.id).exec(app.state.db.conn()).await.unwrap();
    fifth.clone().into_active_model().reset_all().insert(app.state.db.conn()).await.unwrap();
    assert_eq!(audit_cli(&app, "verify").await.0, 0, "restored row verifies again");

    // 2. Deleting a row in the middle leaves a hole the walk reports.
    let seventh = link(&app, 7).await;
    audit_event::Entity::delete_by_id(seventh.id).exec(app.state.db.conn()).await.unwrap();
    let (code, out) = audit_cli(&app, "verify").await;
    assert_eq!(code, 1);
    assert!(out.contains("link 7 is missing: the next sealed link is 8"), "{out}");
    seventh.into_active_model().reset_all().insert(app.state.db.conn()).await.unwrap();
    assert_eq!(audit_cli(&app, "verify").await.0, 0);

    // 3. Cutting off the newest rows leaves a chain shorter than its head.
    exec(&app, &format!("DELETE FROM audit_events WHERE chain_seq >= {}", links - 1)).await;
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
