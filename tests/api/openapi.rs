//! The OpenAPI document: generated from the handlers, served at
//! /api/v1/openapi.json, and naming every route the service answers.

use serde_json::Value;

use crate::helpers::*;

/// Every API route of the service (the README's tables): (method, path
/// template). The web page's routes (`/` and its assets) are not API.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/me"),
    ("post", "/api/v1/session"),
    ("get", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/keys"),
    ("post", "/api/v1/keys"),
    ("delete", "/api/v1/keys/{id}"),
    ("post", "/api/v1/submissions"),
    ("get", "/api/v1/submissions"),
    ("get", "/api/v1/submissions/{id}"),
    ("get", "/api/v1/submissions/{id}/annotated.xlsx"),
    ("post", "/api/v1/submissions/{id}/review"),
    ("get", "/api/v1/templates/{reporter}/{file}"),
    ("get", "/api/v1/entry/{reporter}/{period}"),
    ("post", "/api/v1/entry/{reporter}/{period}"),
    ("get", "/api/v1/orgs/{code}"),
    ("get", "/api/v1/orgs/{code}/children"),
    ("post", "/api/v1/orgs/{code}/move"),
    ("post", "/api/v1/orgs/{code}/close"),
    ("post", "/api/v1/orgs/{code}/split"),
    ("post", "/api/v1/orgs/merge"),
    ("post", "/api/v1/orgs/import"),
    ("get", "/api/v1/orgs/{code}/indicators"),
    ("get", "/api/v1/orgs/{code}/forms/{form}"),
    ("get", "/api/v1/orgs/{code}/completeness"),
    ("get", "/api/v1/orgs/{code}/contact"),
    ("put", "/api/v1/orgs/{code}/contact"),
    ("get", "/api/v1/orgs/{code}/contacts"),
    ("get", "/api/v1/orgs/{code}/reminders"),
    ("post", "/api/v1/orgs/{code}/reminders"),
    ("get", "/api/v1/orgs/{code}/reminders.xlsx"),
    ("get", "/api/v1/orgs/{code}/series"),
    ("get", "/api/v1/orgs/{code}/export.xlsx"),
    ("get", "/api/v1/orgs/{code}/history"),
    ("get", "/api/v1/orgs/{code}/approval"),
    ("post", "/api/v1/orgs/{code}/approval"),
    ("delete", "/api/v1/orgs/{code}/approval"),
    ("get", "/api/v1/orgs/{code}/reviews"),
    ("get", "/api/v1/catalog"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/metrics"),
    ("get", "/healthz"),
    ("get", "/readyz"),
];

fn concrete(path: &str) -> String {
    // Not the admin key itself (#1): the other routes still need it.
    path.replace("/keys/{id}", "/keys/999")
        .replace("{id}", "1")
        .replace("{reporter}", "330102001")
        .replace("{file}", "2026-10.xlsx")
        .replace("{code}", "330102")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_openapi_document_and_every_documented_route_is_served() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(
        documented, expected,
        "routes and the OpenAPI document differ"
    );

    // Each documented operation is really routed: never the fallback's 404 nor
    // a 405, whatever else it answers without parameters.
    for (method, path) in &documented {
        let url = format!("{}{}", app.addr, concrete(path));
        let req = match method.as_str() {
            "get" => app.client.get(&url),
            "post" => app.client.post(&url),
            "delete" => app.client.delete(&url),
            "put" => app.client.put(&url),
            other => panic!("{other}"),
        };
        let resp = req.bearer_auth(&app.admin_key).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{method} {path}");
        assert!(
            !(status == 404 && body["message"] == "no such route"),
            "{method} {path} is documented but not routed"
        );
        assert!(status < 500, "{method} {path}: {status} {body}");
    }

    // Operations name their parameters and answers with schemas.
    let ind = &paths["/api/v1/orgs/{code}/indicators"]["get"];
    let names: Vec<&str> = ind["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["code", "period", "children", "tree", "child_metric_changes"]
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "IndicatorsView",
        "Rate",
        "CompletenessView",
        "SeriesView",
        "ApprovalView",
        "QueueView",
        "ReviewRequest",
        "ReviewView",
        "ErrorBody",
        "Issue",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    // 同比/环比 are documented with what their changes are measured in.
    let comparisons = &schemas["IndicatorsView"]["properties"]["comparisons"];
    assert!(!comparisons.is_null(), "{}", schemas["IndicatorsView"]);
    let change = serde_json::to_string(&schemas["Change"]).unwrap();
    assert!(change.contains("percentage points"), "{change}");
    let point = serde_json::to_string(&schemas["SeriesPoint"]).unwrap();
    assert!(point.contains("yoy_change"), "{point}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    app.stop().await;
}

postgres_twins!(every_route_is_in_the_openapi_document_and_every_documented_route_is_served,);
