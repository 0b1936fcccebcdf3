use unionstat::store::keys::Role;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_see_and_write_only_their_subtree() {
    let app = spawn_app().await;
    let town = app.key("330102001", Role::Submitter).await;
    let viewer = app.key("330102", Role::Viewer).await;

    // No key, a wrong key: 401.
    let (s, _) = app
        .upload_as(None, town_a_sheet(), "reporter=330102001&period=2026-10")
        .await;
    assert_eq!(s, 401);
    let (s, _) = app
        .get(
            "us_not_a_key",
            "/api/v1/orgs/330102/indicators?period=2026-10",
        )
        .await;
    assert_eq!(s, 401);

    // A town's submitter uploads for itself…
    let (s, body) = app
        .upload_as(
            Some(&town),
            town_a_sheet(),
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let id = body["id"].as_i64().unwrap();
    app.wait(id).await;
    let (s, _) = app.get(&town, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, 200);
    // …but not for its sibling town, and reads neither its county's sibling nor the province.
    let (s, _) = app
        .upload_as(
            Some(&town),
            town_a_sheet(),
            "reporter=330102002&period=2026-10",
        )
        .await;
    assert_eq!(s, 404, "outside the subtree answers as unknown");
    let (s, _) = app
        .get(&town, "/api/v1/orgs/330103/indicators?period=2026-10")
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get(&town, "/api/v1/orgs/330102/indicators?period=2026-10")
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get(&town, "/api/v1/orgs/330102001/indicators?period=2026-10")
        .await;
    assert_eq!(s, 200);

    // A county viewer reads its county and towns, not the other county; it cannot upload.
    let (s, _) = app
        .get(&viewer, "/api/v1/orgs/330102/completeness?period=2026-10")
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .get(&viewer, "/api/v1/orgs/330103/indicators?period=2026-10")
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&viewer, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, 200);
    let (s, _) = app
        .upload_as(
            Some(&viewer),
            town_a_sheet(),
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 403);

    // A submitter that lets the cover decide cannot smuggle in another reporter.
    let sneaky = workbook(
        Some(("330103001", "2026-10")),
        BASIC,
        &[basic_row("330103001001", "己公司工会", 1.0, 1.0, 10.0, 9.0)],
    );
    let (s, body) = app.upload_as(Some(&town), sneaky, "").await;
    assert_eq!(s, 202);
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected");
    assert!(issue(&sub, "reporter_out_of_scope").is_some(), "{sub}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_answers() {
    let app = spawn_app().await;
    let (s, body) = app
        .get(&app.admin_key, "/api/v1/orgs/330102/indicators")
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("period"));
    let (s, _) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026-13",
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/nope/indicators?period=2026-10",
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&app.admin_key, "/api/v1/submissions/999999").await;
    assert_eq!(s, 404);
    let (s, _) = app
        .upload_as(
            Some(&app.admin_key),
            vec![1, 2, 3],
            "reporter=330102001001&period=2026-10",
        )
        .await;
    assert_eq!(s, 422, "a grassroots union is not a reporter");
    let (s, _) = app
        .upload_as(
            Some(&app.admin_key),
            vec![1, 2, 3],
            "reporter=330102001&period=202610",
        )
        .await;
    assert_eq!(s, 422);
    // Larger than server.max_upload_bytes (20 MiB): refused whole, nothing stored.
    let (s, body) = app
        .upload_as(
            Some(&app.admin_key),
            vec![b'x'; 21 * 1024 * 1024],
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("20971520"),
        "{body}"
    );
    let (s, _) = app
        .get(&app.admin_key, "/api/v1/submissions/not-a-number")
        .await;
    assert_eq!(s, 400);
    let n = app.count("SELECT COUNT(*) FROM submissions").await;
    assert_eq!(n, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completeness_lists_who_has_not_reported() {
    let app = spawn_app().await;
    app.submit(town_a_sheet(), "330102001", "2026-10").await;
    let bad = workbook(
        None,
        BASIC,
        &[basic_row("330102002001", "丁公司工会", 1.0, 2.0, 10.0, 5.0)],
    );
    app.submit(bad, "330102002", "2026-10").await;
    let (s, c) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330100/completeness?period=2026-10",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["expected_reporters"], 3);
    assert_eq!(c["reported"], 1);
    assert_eq!(c["rejected"], 1);
    assert_eq!(c["missing"], 1);
    let status: Vec<(String, String)> = c["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    // Uploaded today, for October: after the 10 November deadline, so late.
    assert_eq!(
        status,
        vec![
            ("330102001".into(), "late".into()),
            ("330102002".into(), "rejected".into()),
            ("330103001".into(), "missing".into())
        ]
    );
    let r = c["reporting_rate"]["value"].as_f64().unwrap();
    assert!((r - 1.0 / 3.0).abs() < 1e-12);
    app.stop().await;
}

postgres_twins!(
    keys_see_and_write_only_their_subtree,
    bad_requests_get_clear_answers,
    completeness_lists_who_has_not_reported,
);
