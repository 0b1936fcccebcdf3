//! Named people and the key lifecycle: sign-in with login and password, the
//! session cookie and its CSRF token, idle and absolute expiry, throttling of
//! failed sign-ins, disabling, keys over HTTP and the command line, and audit
//! rows that name the person.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqwest::header::{HeaderMap, COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::helpers::*;

const PW: &str = "correct horse 电池";

/// A signed-in browser: its cookie value and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

/// Signs in; returns (status, headers, body).
async fn sign_in(app: &TestApp, login: &str, password: &str) -> (u16, HeaderMap, Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/session", app.addr))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("sign-in request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

async fn browser(app: &TestApp, login: &str, password: &str) -> Browser {
    let (s, headers, body) = sign_in(app, login, password).await;
    assert_eq!(s, 200, "{body}");
    let set = headers[SET_COOKIE].to_str().unwrap();
    let value = set
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("unionstat_session=")
        .unwrap_or_else(|| panic!("{set}"));
    Browser {
        cookie: value.to_string(),
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

/// A request with the session cookie and, when given, a CSRF token; returns
/// (status, headers, body).
async fn with_cookie(
    app: &TestApp,
    b: &Browser,
    method: reqwest::Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, HeaderMap, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.addr))
        .header(COOKIE, format!("other=1; unionstat_session={}", b.cookie));
    if let Some(t) = csrf {
        req = req.header("X-CSRF-Token", t);
    }
    if let Some(bytes) = body {
        req = req.body(bytes);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

async fn get_cookie(app: &TestApp, b: &Browser, path: &str) -> (u16, Value) {
    let (s, _, v) = with_cookie(app, b, reqwest::Method::GET, path, None, None).await;
    (s, v)
}

/// `unionstat ARGS` on the app's own warehouse (as `unionstat_command` runs
/// it, with the app's database), with stdin and OS user `ops`.
async fn cli(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .current_dir(dir.path())
        .env_remove("UNIONSTAT_DATABASE_URL")
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .env("UNIONSTAT_REPORTING__LOCK_AFTER_DAYS", "0")
        .env("USER", "ops")
        .arg("--database")
        .arg(&app.ctx.settings.database.url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unionstat");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.expect("unionstat output")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_login_and_password_and_answers_wrong_ones_alike() {
    let app = spawn_app().await;
    app.create_user("zhangsan", "张三", "330102001", Role::Submitter, PW)
        .await;

    let (s, headers, body) = sign_in(&app, "ZhangSan", PW).await;
    assert_eq!(s, 200, "{body}");
    let set = headers[SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("unionstat_session="), "{set}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.split("; ").any(|f| f == flag), "{flag} missing: {set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    let csrf = body["csrf_token"].as_str().unwrap();
    assert_eq!(csrf.len(), 64);
    assert_eq!(body["me"]["org"], "330102001");
    assert_eq!(body["me"]["role"], "submitter");
    assert_eq!(
        body["me"]["actor"],
        json!({"kind": "user", "login": "zhangsan", "name": "张三"})
    );
    // Only the hash of the cookie value is stored.
    let value = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("unionstat_session=");
    assert_eq!(value.len(), 64);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE id_hash = '{value}'"
        ))
        .await,
        0
    );

    // The cookie is a session for GET /session and GET /me.
    let b = Browser {
        cookie: value.to_string(),
        csrf: csrf.to_string(),
    };
    let (s, v) = get_cookie(&app, &b, "/api/v1/session").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["csrf_token"], csrf);
    let (s, v) = get_cookie(&app, &b, "/api/v1/me").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["actor"]["name"], "张三");
    // A key is not a cookie session; its /me names the key's label.
    let (s, _) = app.get(&app.admin_key, "/api/v1/session").await;
    assert_eq!(s, 401);
    let (_, v) = app.get(&app.admin_key, "/api/v1/me").await;
    assert_eq!(v["actor"], json!({"kind": "key", "label": "test admin"}));

    // A wrong password and an unknown login get the same answer.
    let (s1, h1, wrong_password) = sign_in(&app, "zhangsan", "not the password").await;
    let (s2, _, unknown_login) = sign_in(&app, "nobody", PW).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong_password, unknown_login);
    assert!(wrong_password["message"]
        .as_str()
        .unwrap()
        .contains("wrong login or password"));
    assert!(h1.get(SET_COOKIE).is_none());

    // Signing out needs the CSRF token, ends the session and clears the cookie.
    let (s, _, v) = with_cookie(
        &app,
        &b,
        reqwest::Method::DELETE,
        "/api/v1/session",
        None,
        None,
    )
    .await;
    assert_eq!(s, 403, "{v}");
    let (s, h, _) = with_cookie(
        &app,
        &b,
        reqwest::Method::DELETE,
        "/api/v1/session",
        Some(&b.csrf),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let cleared = h[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("unionstat_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let (s, _) = get_cookie(&app, &b, "/api/v1/session").await;
    assert_eq!(s, 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_when_configured() {
    let app = spawn_app_with(|s| s.auth.cookie_secure = true).await;
    app.create_user("zhangsan", "张三", "330102001", Role::Viewer, PW)
        .await;
    let (s, headers, _) = sign_in(&app, "zhangsan", PW).await;
    assert_eq!(s, 200);
    let set = headers[SET_COOKIE].to_str().unwrap();
    assert!(set.split("; ").any(|f| f == "Secure"), "{set}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_sign_ins_are_throttled_per_login_and_per_address() {
    let app = spawn_app_with(|s| {
        s.auth.max_failures_per_login = 3;
        s.auth.max_failures_per_address = 5;
        // 6 s, so that the test can wait for the window to pass.
        s.auth.login_window_minutes = 0.1;
    })
    .await;
    app.create_user("zhangsan", "张三", "330102001", Role::Submitter, PW)
        .await;
    app.create_user("lisi", "李四", "330102002", Role::Submitter, PW)
        .await;
    for _ in 0..3 {
        let (s, _, _) = sign_in(&app, "zhangsan", "guess").await;
        assert_eq!(s, 401);
    }
    // The fourth try is refused even with the right password.
    let (s, headers, body) = sign_in(&app, "zhangsan", PW).await;
    assert_eq!(s, 429, "{body}");
    let retry: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry), "Retry-After {retry}");
    assert_eq!(body["error"], "too_many_requests");
    // Another login from the same address: two more failures reach the
    // address's limit of 5.
    for _ in 0..2 {
        let (s, _, _) = sign_in(&app, "lisi", "guess").await;
        assert_eq!(s, 401);
    }
    let (s, _, _) = sign_in(&app, "lisi", PW).await;
    assert_eq!(s, 429);
    // Once the window has passed, the right password works again.
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let (s, _, body) = sign_in(&app, "zhangsan", PW).await;
    assert_eq!(s, 200, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_need_the_csrf_token_and_the_audit_names_the_person() {
    let app = spawn_app().await;
    app.create_user("zhangsan", "张三", "330102001", Role::Submitter, PW)
        .await;
    let b = browser(&app, "zhangsan", PW).await;
    let path = "/api/v1/submissions?reporter=330102001&period=2026-10";
    let post = reqwest::Method::POST;

    // A cookie write without the token, or with a wrong one: 403, nothing stored.
    let (s, _, v) = with_cookie(&app, &b, post.clone(), path, None, Some(town_a_sheet())).await;
    assert_eq!(s, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("csrf"), "{v}");
    let wrong = "0".repeat(64);
    let (s, _, _) = with_cookie(
        &app,
        &b,
        post.clone(),
        path,
        Some(&wrong),
        Some(town_a_sheet()),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);

    // With the token the upload goes through, and is the person's.
    let (s, _, v) = with_cookie(
        &app,
        &b,
        post.clone(),
        path,
        Some(&b.csrf),
        Some(town_a_sheet()),
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let sub = app.wait(v["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let (_, h) = get_cookie(&app, &b, "/api/v1/orgs/330102001/history?period=2026-10").await;
    let entries = h["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{h}");
    assert!(
        entries.iter().all(|e| e["actor"] == "张三 (zhangsan)"),
        "{h}"
    );

    // The person approves; the approval and its audit row name them.
    let (s, _, v) = with_cookie(
        &app,
        &b,
        post.clone(),
        "/api/v1/orgs/330102001/approval?period=2026-10",
        None,
        None,
    )
    .await;
    assert_eq!(s, 403, "{v}");
    let (s, _, v) = with_cookie(
        &app,
        &b,
        post.clone(),
        "/api/v1/orgs/330102001/approval?period=2026-10",
        Some(&b.csrf),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["approved_by"], "张三 (zhangsan)");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit WHERE action = 'approved' AND actor = '张三 (zhangsan)'"
        )
        .await,
        1
    );

    // A key needs no CSRF token; its rows name its label.
    let key = app.key("330102002", Role::Submitter).await;
    let (s, v) = app
        .upload_as(
            Some(&key),
            workbook(
                None,
                BASIC,
                &[basic_row("330102002001", "丁公司工会", 2.0, 1.0, 10.0, 9.0)],
            ),
            "reporter=330102002&period=2026-10",
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(app.wait(id).await["status"], "accepted");
    let key_id = app.count("SELECT MAX(id) FROM api_keys").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE submission_id = {id} AND actor = 'key \"test 330102002 submitter\" (#{key_id})'"
        ))
        .await,
        app.count(&format!("SELECT COUNT(*) FROM audit WHERE submission_id = {id}")).await
    );
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE submission_id = {id}"
        ))
        .await
            > 0
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_at_their_absolute_limit() {
    let app = spawn_app_with(|s| {
        // Idle 3 s, absolute 5.4 s.
        s.auth.session_idle_minutes = 0.05;
        s.auth.session_absolute_hours = 0.0015;
    })
    .await;
    app.create_user("zhangsan", "张三", "330102001", Role::Viewer, PW)
        .await;
    // Never used again: it is forgotten at a later sign-in.
    let _abandoned = browser(&app, "zhangsan", PW).await;
    let idle = browser(&app, "zhangsan", PW).await;
    let idle_since = std::time::Instant::now();
    let busy = browser(&app, "zhangsan", PW).await;
    let busy_since = std::time::Instant::now();
    // The busy session is used every second, so it is never idle for 3 s: it
    // answers until its absolute limit, then ends however it is used.
    let mut idle_checked = false;
    loop {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let age = busy_since.elapsed().as_secs_f64();
        let (s, v) = get_cookie(&app, &busy, "/api/v1/me").await;
        if age < 4.5 {
            assert_eq!(s, 200, "at {age:.1} s: {v}");
        } else if age > 5.6 {
            assert_eq!(s, 401, "at {age:.1} s: {v}");
            assert_eq!(v["code"], "session_expired");
            break;
        }
        // The unused one, idle for more than 3 s but younger than 5.4 s.
        let idle_age = idle_since.elapsed().as_secs_f64();
        if !idle_checked && idle_age > 3.2 && idle_age < 5.2 {
            let (s, v) = get_cookie(&app, &idle, "/api/v1/me").await;
            assert_eq!(s, 401, "{v}");
            assert_eq!(v["code"], "session_expired");
            assert_eq!(v["error"], "session expired");
            // Asked again (as a page's other requests in flight are), it
            // still says why, not merely "not signed in".
            let (s, v) = get_cookie(&app, &idle, "/api/v1/me").await;
            assert_eq!((s, &v["code"]), (401, &json!("session_expired")), "{v}");
            idle_checked = true;
        }
        assert!(age < 10.0, "the busy session never ended");
    }
    assert!(idle_checked);
    // Expired sessions keep saying so until the next sign-in forgets them,
    // with the abandoned one.
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 3);
    let fresh = browser(&app, "zhangsan", PW).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(get_cookie(&app, &fresh, "/api/v1/me").await.0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_managed_on_the_command_line_and_disabling_ends_sessions() {
    let app = spawn_app().await;
    // A password from stdin.
    let out = cli(
        &app,
        &[
            "users",
            "create",
            "--name",
            "张三",
            "--login",
            "zhangsan",
            "--org",
            "330102001",
            "--role",
            "submitter",
            "--password-stdin",
        ],
        &format!("{PW}\n"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    // None given (stdin is no terminal): generated and printed once.
    let out = cli(
        &app,
        &[
            "users", "create", "--name", "李四", "--login", "lisi", "--org", "330102", "--role",
            "viewer",
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let generated = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(generated.len(), 20, "{}", text(&out));
    // A short password is refused, naming the rule.
    let out = cli(
        &app,
        &[
            "users",
            "create",
            "--name",
            "王五",
            "--login",
            "wangwu",
            "--org",
            "330102",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "short\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("at least 10 characters"),
        "{}",
        text(&out)
    );

    let out = cli(&app, &["users", "list", "--json"], "").await;
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let logins: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["lisi", "zhangsan"]);
    assert_eq!(list[1]["created_by"], "cli (ops)");

    let zhang = browser(&app, "zhangsan", PW).await;
    let li = browser(&app, "lisi", &generated).await;

    // Disabling ends the person's sessions at once and refuses sign-in alike.
    let out = cli(&app, &["users", "disable", "zhangsan"], "").await;
    assert!(out.status.success(), "{}", text(&out));
    let (s, _) = get_cookie(&app, &zhang, "/api/v1/me").await;
    assert_eq!(s, 401);
    let (s, _, disabled) = sign_in(&app, "zhangsan", PW).await;
    let (_, _, wrong) = sign_in(&app, "nobody", PW).await;
    assert_eq!(s, 401);
    assert_eq!(disabled, wrong);

    // A new password ends the old sessions; the old password stops working.
    let new_pw = "a much better password";
    let out = cli(
        &app,
        &["users", "reset-password", "lisi", "--password-stdin"],
        &format!("{new_pw}\n"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let (s, _) = get_cookie(&app, &li, "/api/v1/me").await;
    assert_eq!(s, 401);
    assert_eq!(sign_in(&app, "lisi", &generated).await.0, 401);
    assert_eq!(sign_in(&app, "lisi", new_pw).await.0, 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE actor = 'cli (ops)' AND action IN ('user_created', 'user_disabled', 'password_reset')")
            .await,
        4
    );
    let out = cli(&app, &["users", "disable", "nobody"], "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no user nobody"), "{}", text(&out));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_list_revoke_and_expire_keys_over_http() {
    let app = spawn_app().await;
    let post = |key: &str, body: Value| {
        app.client
            .post(format!("{}/api/v1/keys", app.addr))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let r = post(
        &app.admin_key,
        json!({"org": "330102", "role": "viewer", "label": "nightly import"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["label"], "nightly import");
    let (s, me) = app.get(&key, "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(
        me["actor"],
        json!({"kind": "key", "label": "nightly import"})
    );
    assert_eq!(me["org"], "330102");

    let (s, list) = app.get(&app.admin_key, "/api/v1/keys").await;
    assert_eq!(s, 200);
    let listed = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(listed["label"], "nightly import");
    assert_eq!(listed["role"], "viewer");
    assert_eq!(listed["prefix"], &key[..9]);
    assert_eq!(listed["created_by"], "key \"test admin\" (#1)");
    assert!(listed.get("key").is_none() && !list.to_string().contains(&key));

    // Only admins; a label is required; an expiry must lie ahead.
    let (s, _) = app.get(&key, "/api/v1/keys").await;
    assert_eq!(s, 403);
    let r = post(
        &key,
        json!({"org": "330102", "role": "viewer", "label": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = post(
        &app.admin_key,
        json!({"org": "330102", "role": "viewer", "label": " "}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let r = post(
        &app.admin_key,
        json!({"org": "330102", "role": "viewer", "label": "old", "expires_at": "2020-01-01"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let r = post(
        &app.admin_key,
        json!({"org": "999999", "role": "viewer", "label": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 422);

    // Revoked: 401 at the next request.
    let del = |path: String| {
        app.client
            .delete(format!("{}{path}", app.addr))
            .bearer_auth(&app.admin_key)
            .send()
    };
    assert_eq!(
        del(format!("/api/v1/keys/{id}"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(app.get(&key, "/api/v1/me").await.0, 401);
    assert_eq!(
        del("/api/v1/keys/99999".into())
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit WHERE action = 'key_revoked' AND detail = 'key \"nightly import\" (#{id})'"))
            .await,
        1
    );

    // Expired: 401 from its expiry on.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let r = post(
        &app.admin_key,
        json!({"org": "330102", "role": "viewer", "label": "short-lived", "expires_at": soon}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let short: Value = r.json().await.unwrap();
    let short = short["key"].as_str().unwrap().to_string();
    assert_eq!(app.get(&short, "/api/v1/me").await.0, 200);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(app.get(&short, "/api/v1/me").await.0, 401);

    // A signed-in admin creates keys with the CSRF token; the key names them.
    app.create_user("wangwu", "王五", "330000", Role::Admin, PW)
        .await;
    let b = browser(&app, "wangwu", PW).await;
    let body =
        serde_json::to_vec(&json!({"org": "330103", "role": "submitter", "label": "county sync"}))
            .unwrap();
    let send = |csrf: Option<String>| {
        let mut r = app
            .client
            .post(format!("{}/api/v1/keys", app.addr))
            .header(COOKIE, format!("unionstat_session={}", b.cookie))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(t) = csrf {
            r = r.header("X-CSRF-Token", t);
        }
        r.send()
    };
    assert_eq!(send(None).await.unwrap().status().as_u16(), 403);
    let r = send(Some(b.csrf.clone())).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (_, list) = app.get(&app.admin_key, "/api/v1/keys").await;
    assert_eq!(list["keys"][0]["label"], "county sync");
    assert_eq!(list["keys"][0]["created_by"], "王五 (wangwu)");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_created_listed_and_revoked_on_the_command_line() {
    let app = spawn_app().await;
    let out = cli(
        &app,
        &[
            "keys",
            "create",
            "--org",
            "330102",
            "--role",
            "viewer",
            "--label",
            "cli import",
            "--expires",
            "2099-12-31",
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let key = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert!(key.starts_with("us_"), "{}", text(&out));
    let (s, me) = app.get(&key, "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["actor"]["label"], "cli import");

    let out = cli(&app, &["keys", "list"], "").await;
    let listing = text(&out);
    let line = listing
        .lines()
        .find(|l| l.contains("\"cli import\""))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(
        line.contains("expires 2100-01-01T00:00:00.000Z") && line.contains("330102"),
        "{line}"
    );
    let id = line
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let out = cli(&app, &["keys", "revoke", &id], "").await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(app.get(&key, "/api/v1/me").await.0, 401);
    let out = cli(&app, &["keys", "list", "--json"], "").await;
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "cli import")
        .unwrap();
    assert!(revoked["revoked_at"].is_string());

    // No label, or an expiry in the past: refused.
    let out = cli(
        &app,
        &["keys", "create", "--org", "330102", "--role", "viewer"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--label"), "{}", text(&out));
    let out = cli(
        &app,
        &[
            "keys",
            "create",
            "--org",
            "330102",
            "--role",
            "viewer",
            "--label",
            "x",
            "--expires",
            "2020-01-01",
        ],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not in the future"), "{}", text(&out));
    app.stop().await;
}

/// `serve` says how to create the first admin while no one can sign in.
#[test]
fn serve_names_the_command_for_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("orgs.csv"),
        "code,name,parent_code,kind,expected_to_report\n330000,示例省总工会,,federation,false\n",
    )
    .unwrap();
    assert!(unionstat(d, &["orgs", "import", "orgs.csv"])
        .status
        .success());
    let mut child = unionstat_command(d)
        .args(["serve", "--bind", "127.0.0.1:0", "--no-workers"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve");
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let started = std::time::Instant::now();
    while !seen.contains("listening") && started.elapsed() < Duration::from_secs(30) {
        let mut buf = [0u8; 4096];
        use std::io::Read;
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    assert!(
        seen.contains("users create --name 管理员 --login admin --org 330000 --role admin"),
        "{seen}"
    );
}

postgres_twins!(
    signs_in_with_login_and_password_and_answers_wrong_ones_alike,
    the_cookie_is_secure_when_configured,
    repeated_failed_sign_ins_are_throttled_per_login_and_per_address,
    cookie_writes_need_the_csrf_token_and_the_audit_names_the_person,
    sessions_end_when_idle_and_at_their_absolute_limit,
    people_are_managed_on_the_command_line_and_disabling_ends_sessions,
    admins_create_list_revoke_and_expire_keys_over_http,
    keys_are_created_listed_and_revoked_on_the_command_line,
    serve_names_the_command_for_the_first_admin,
);
