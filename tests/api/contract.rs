//! The OpenAPI document is a reviewed artifact: `openapi/openapi.json` must
//! match what the code generates, and the server must serve the same.
use std::path::Path;

use serde_json::Value;

use crate::helpers::*;

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = greenchannel::api::spec_json();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed.trim() != generated.trim() {
        std::fs::write(&path, format!("{}\n", generated.trim())).unwrap();
        panic!("openapi/openapi.json was stale and has been rewritten: review and commit it");
    }
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_documented_problems() {
    let spec: Value = serde_json::from_str(&greenchannel::api::spec_json()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(!op["tags"].as_array().map(|t| t.is_empty()).unwrap_or(true), "{id} has no tag");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{id} has no summary");
            let responses = op["responses"].as_object().unwrap();
            if !path.starts_with("/healthz") && !path.starts_with("/metrics") {
                for status in ["400", "401", "404", "422", "500"] {
                    let ct =
                        &responses.get(status).unwrap_or_else(|| panic!("{id} does not document {status}"))["content"];
                    assert!(ct.get("application/problem+json").is_some(), "{id} {status} is not problem+json");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_server_serves_the_same_document_and_the_docs_page() {
    let app = spawn_app().await;
    let served: Value =
        app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let generated: Value = serde_json::from_str(&greenchannel::api::spec_json()).unwrap();
    assert_eq!(served["paths"], generated["paths"]);
    assert_eq!(served["components"], generated["components"]);
    let docs = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"));
}
