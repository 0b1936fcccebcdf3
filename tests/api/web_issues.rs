//! The page's issue list in a real browser: a rule with more issues than an
//! answer lists shows its first 100 and says how many more there are
//! ("另有 N 条" / "N more"), at desktop and phone width, in both languages.
//! Months stay open (`lock_after_days = 0`, spawn_app).

use unionstat::store::keys::Role;

use crate::diagnoses::thousands_of_unknown_codes;
use crate::helpers::*;
use crate::web::{click, close_clean, js, open_signed_in, shot, upload, wait_text, WAIT};
use crate::webdriver::{Browser, BrowserTools};

/// The group of the rule `unit_unknown` on the rejected upload's card.
const RULE: &str = r#"#uploads li[data-file="many.xlsx"][data-status="rejected"] details[data-rule="unit_unknown"]"#;

/// The group lists 100 issues and, under them, the line `more`.
async fn assert_listed_and_more(b: &Browser, more: &str) {
    wait_text(b, &format!("{RULE} p.more"), more).await;
    let listed = js(
        b,
        &format!(
            "document.querySelectorAll({:?}).length",
            format!("{RULE} tr.issue")
        ),
    )
    .await;
    assert_eq!(listed, serde_json::json!(100), "{more}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_rule_with_1200_issues_lists_100_and_says_1100_more() {
    let Some(tools) = BrowserTools::find("web_issues::in_a_browser") else {
        return;
    };
    let app = spawn_app().await;
    app.create_user(
        "lina",
        "李娜",
        "330102001",
        Role::Submitter,
        "town-clerk-2026",
    )
    .await;
    // 1,200 codes that are in no master data, and one unit with more members
    // than employees.
    let files = tempfile::tempdir().expect("temp dir");
    let many = files.path().join("many.xlsx");
    std::fs::write(&many, thousands_of_unknown_codes()).expect("write many.xlsx");

    for (size, shot_name) in [
        ((1280, 900), "60-issues-more-desktop.png"),
        ((390, 844), "61-issues-more-phone.png"),
    ] {
        let b = open_signed_in(&tools, &app, "lina", "town-clerk-2026", size).await;
        upload(&b, "330102001", &many).await;
        b.wait(RULE, WAIT).await.expect("the rule's group");
        assert_listed_and_more(&b, "另有 1,100 条未列出；标注问题的工作簿列有全部问题。").await;
        let count = js(
            &b,
            &format!(
                "document.querySelector({:?}).textContent",
                format!("{RULE} summary .count")
            ),
        )
        .await;
        assert_eq!(count, serde_json::json!("1200 处"), "{size:?}");
        // The line sits under the table, inside the page's width.
        let fits = js(
            &b,
            &format!(
                "(() => {{ const p = document.querySelector({:?}); \
                 return p.getBoundingClientRect().right <= document.documentElement.clientWidth; }})()",
                format!("{RULE} p.more")
            ),
        )
        .await;
        assert_eq!(fits, serde_json::json!(true), "{size:?}");
        shot(&b, &format!("{RULE} p.more"), shot_name).await;

        click(&b, "#lang").await;
        assert_listed_and_more(
            &b,
            "1,100 more not listed; the annotated workbook marks them all.",
        )
        .await;
        // Back to Chinese for the next browser (the choice is remembered).
        click(&b, "#lang").await;
        close_clean(b).await;
    }
    app.stop().await;
}

postgres_twins!(in_a_browser_a_rule_with_1200_issues_lists_100_and_says_1100_more,);
