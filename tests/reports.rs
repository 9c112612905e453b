//! The written updates and the board pack, from a quarter of real use
//! (commands through the core's entry, scheduler ticks with a controlled
//! clock): the monthly and quarterly updates posted once on the first
//! working day after their period (weekends and holidays skipped), the
//! weekly update's fuller content, and `quorum report` as Markdown
//! (snapshot), HTML and PDF through the real binary. Store-backed: runs on
//! SQLite, and on PostgreSQL with QUORUM_TEST_BACKEND=postgres (as CI does).
//!
//! After a deliberate change, `QUORUM_UPDATE_SNAPSHOTS=1 cargo test --test
//! reports` rewrites the snapshots in `tests/snapshots/reports/`; review the
//! diff before committing.

mod support;

use std::path::PathBuf;

use chrono::{Datelike as _, Duration, NaiveDate};
use quorum::config::Config;
use support::core::{Harness, harness_with};
use support::run;

const CONFIG: &str = r#"
[defaults]
channel = "general"

[escalation]
exec_team_channel = "exec-team"

[calendar]
holidays = ["2026-10-01"]

# The quarter's escalations are raised by hand, with ids the scenario names;
# the ones Quorum raises itself (tests/chasing.rs) would take some of those ids.
[actions]
escalate_overdue_after = "300d"

[decisions]
escalate_after = "300d"

[digest.monthly]

[digest.quarterly]
time = "10:00"

[org.ceo]
name = "Chief Executive"

[org.cto]
name = "Chief Technology"

[org.cfo]
name = "Chief Financial"
"#;

const START: &str = "2026-07-01T08:00:00Z";

fn config() -> Config {
    Config::from_toml(CONFIG, "reports.toml").unwrap()
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/reports")
        .join(name)
}

/// Compare `actual` with snapshot `name`, or write it when
/// QUORUM_UPDATE_SNAPSHOTS is set.
fn check(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("QUORUM_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs\n--- expected ({})\n{expected}\n--- actual\n{actual}\n",
        path.display()
    );
}

fn at(day: &str, time: &str) -> String {
    format!("{day}T{time}:00Z")
}

/// Tick once a day at 11:00 (and Fridays at 16:00) from `from` to `to`
/// (inclusive).
async fn days(h: &Harness, from: &str, to: &str) {
    let mut d = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    let end = NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap();
    while d <= end {
        h.tick(&at(&d.to_string(), "11:00")).await;
        if d.weekday() == chrono::Weekday::Fri {
            // The weekly update, Fridays at 16:00.
            h.tick(&at(&d.to_string(), "16:00")).await;
        }
        d += Duration::days(1);
    }
}

/// A third quarter of 2026 in workspace `acme`: a weekly meeting (one
/// skipped), decisions (one still awaiting approval), action items done,
/// verified and overdue, an escalation resolved and one open, and risks.
async fn a_quarter() -> Harness {
    let h = harness_with(START, config()).await;
    let t = |d: &str| at(d, "09:00");
    h.cmd(
        &t("2026-07-06"),
        r#"/meeting add title:"Exec team" when:"weekly on monday at 10:00" attendees:ceo,cto,cfo"#,
    )
    .await;
    days(&h, "2026-07-01", "2026-07-06").await;
    h.as_user(
        "cto",
        &t("2026-07-07"),
        r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"Mature, and pgvector""#,
    )
    .await;
    days(&h, "2026-07-07", "2026-07-07").await;
    h.as_user(
        "cto",
        &t("2026-07-08"),
        r#"/decision record title:"Cut cloud spend 10%" category:budget rationale:"The bill doubled""#,
    )
    .await;
    h.cmd(
        &t("2026-07-08"),
        r#"/action add task:"Evaluate pgvector" owner:cto due:2026-07-31"#,
    )
    .await;
    h.cmd(
        &t("2026-07-08"),
        r#"/action add task:"Renegotiate the cloud contract" owner:cfo due:2026-08-15"#,
    )
    .await;
    days(&h, "2026-07-08", "2026-07-08").await;
    h.as_user("cfo", &t("2026-07-09"), "/decision approve id:2")
        .await;
    days(&h, "2026-07-09", "2026-08-02").await;
    h.cmd(
        &t("2026-08-03"),
        r#"/action add task:"Hiring plan for Q4" owner:ceo due:2026-10-15"#,
    )
    .await;
    days(&h, "2026-08-03", "2026-08-09").await;
    h.as_user("cfo", &t("2026-08-10"), "/action done id:2")
        .await;
    days(&h, "2026-08-10", "2026-08-10").await;
    h.as_user("ceo", &t("2026-08-11"), "/action verify id:2")
        .await;
    days(&h, "2026-08-11", "2026-08-11").await;
    h.as_user(
        "cto",
        &t("2026-08-12"),
        r#"/escalate topic:budget severity:high summary:"Cloud bill doubled again""#,
    )
    .await;
    h.as_user(
        "cfo",
        &at("2026-08-12", "09:30"),
        r#"/escalation resolve id:1 note:"Reserved instances bought""#,
    )
    .await;
    days(&h, "2026-08-12", "2026-08-13").await;
    h.cmd(
        &t("2026-08-14"),
        r#"/risk add title:"Key supplier insolvent" severity:critical owner:cfo mitigation:"Second source by Q1""#,
    )
    .await;
    h.cmd(
        &t("2026-08-14"),
        r#"/risk add title:"Office lease ends" severity:low owner:ceo mitigation:"Renew early" review:quarterly"#,
    )
    .await;
    days(&h, "2026-08-14", "2026-09-06").await;
    h.cmd(&t("2026-09-07"), "/meeting skip id:1").await;
    days(&h, "2026-09-07", "2026-09-07").await;
    h.cmd(&t("2026-09-08"), "/risk close id:2").await;
    days(&h, "2026-09-08", "2026-09-20").await;
    h.as_user(
        "ceo",
        &t("2026-09-21"),
        r#"/decision record title:"Open a Lisbon office" category:investment rationale:"Hiring pool""#,
    )
    .await;
    days(&h, "2026-09-21", "2026-09-21").await;
    h.as_user(
        "ceo",
        &t("2026-09-22"),
        r#"/escalate topic:security severity:critical summary:"Card processor down""#,
    )
    .await;
    days(&h, "2026-09-22", "2026-09-30").await;
    h
}

fn updates(h: &Harness, what: &str) -> Vec<String> {
    h.chat
        .texts()
        .into_iter()
        .filter(|t| t.contains(what))
        .collect()
}

#[tokio::test]
async fn monthly_and_quarterly_updates_go_out_once_on_the_first_working_day_after_the_period() {
    let h = a_quarter().await;
    let months = updates(&h, "Monthly update:");
    assert_eq!(
        months.len(),
        2,
        "July's (Mon 3 Aug) and August's (Tue 1 Sep): {months:#?}"
    );
    assert!(
        months[0].starts_with("[#exec-team] Monthly update: July 2026\n"),
        "{}",
        months[0]
    );
    assert!(
        months[1].starts_with("[#exec-team] Monthly update: August 2026\n"),
        "{}",
        months[1]
    );
    // Thursday 1 October is a holiday: September's and the quarter's
    // updates wait for Friday 2 October.
    days(&h, "2026-10-01", "2026-10-01").await;
    assert_eq!(updates(&h, "Monthly update:").len(), 2);
    assert!(updates(&h, "Quarterly update:").is_empty());
    h.tick("2026-10-02T09:00:00Z").await;
    assert_eq!(updates(&h, "Monthly update: September 2026").len(), 1);
    assert!(updates(&h, "Quarterly update:").is_empty(), "at 10:00");
    h.tick("2026-10-02T10:00:00Z").await;
    days(&h, "2026-10-02", "2026-10-12").await;
    let quarter = updates(&h, "Quarterly update:");
    assert_eq!(quarter.len(), 1, "once: {quarter:#?}");
    assert_eq!(updates(&h, "Monthly update:").len(), 3);
    check("quarterly-update.console.txt", &format!("{}\n", quarter[0]));
    check(
        "monthly-update.console.txt",
        &format!("{}\n", updates(&h, "Monthly update: August 2026")[0]),
    );
    // A second instance on the same database queues nothing more.
    let again = quorum::service::report::queue_period_updates(
        &h.app.store,
        &h.app.config,
        support::core::at("2026-10-02T10:30:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn the_weekly_update_names_approvers_owners_escalations_pending_approvals_and_next_week() {
    let h = a_quarter().await;
    let weeks = updates(&h, "Weekly update: Fri 18 Sep to Fri 25 Sep 2026");
    assert_eq!(weeks.len(), 1, "{:#?}", updates(&h, "Weekly update"));
    check("weekly-update.console.txt", &format!("{}\n", weeks[0]));
    let w = &weeks[0];
    assert!(
        w.contains("  Escalations: 1 raised, 2 climbed, 0 resolved\n"),
        "{w}"
    );
    assert!(
        w.contains("    - #2 [critical] security: Card processor down (open, now at board)\n"),
        "{w}"
    );
    assert!(w.contains("  Approvals pending: 1\n"), "{w}");
    assert!(
        w.contains("#3 Open a Lisbon office (investment, proposed by ceo)"),
        "{w}"
    );
    assert!(
        w.contains("  Next week's meetings:\n    - Mon 28 Sep 2026 10:00 UTC Exec team"),
        "{w}"
    );
}

#[tokio::test]
async fn the_board_pack_in_markdown_matches_its_snapshot_and_html_shows_markup_as_text() {
    let h = a_quarter().await;
    h.cmd(
        "2026-09-30T12:00:00Z",
        r#"/risk add title:"<script>alert(1)</script> | pipes" severity:medium owner:cto mitigation:"*bold* _it_""#,
    )
    .await;
    // The binary reads the same configuration (org chart, zone) from a file.
    let file = h.dir.path().join("quorum.toml");
    std::fs::write(&file, CONFIG).unwrap();
    let cfg = file.to_str().unwrap();
    let env = [
        ("QUORUM_DATABASE_URL", h.url.as_str()),
        ("QUORUM_LOG", "warn"),
    ];
    let (code, md, err) = run(
        &[
            "report",
            "--config",
            cfg,
            "--period",
            "2026Q3",
            "--format",
            "md",
            "--workspace",
            "acme",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    check("board-pack-2026Q3.md", &md);

    let (code, month, _) = run(
        &[
            "report",
            "--config",
            cfg,
            "--period",
            "2026-08",
            "--workspace",
            "acme",
        ],
        &env,
    );
    assert_eq!(code, 0);
    assert!(month.starts_with("# Board pack: August 2026\n"), "{month}");
    assert!(
        month.contains("| cfo (Chief Financial) | 0 | 1 | 1 | 0 | 0 |"),
        "{month}"
    );

    let out = h.dir.path().join("pack.html");
    let (code, _, err) = run(
        &[
            "report",
            "--config",
            cfg,
            "--period",
            "2026Q3",
            "--format",
            "html",
            "--workspace",
            "acme",
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<title>Board pack: Q3 2026</title>"));
    assert!(html.contains("<table>"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; | pipes"),
        "{html}"
    );
    assert!(html.contains("*bold* _it_"), "{html}");
}

#[test]
fn bad_arguments_get_one_line_a_non_zero_exit_and_touch_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    let url = format!("sqlite://{}", db.display());
    let env = [("QUORUM_DATABASE_URL", url.as_str())];
    let pdf = dir.path().join("pack.pdf");
    let missing = dir.path().join("no-chromium");
    for (args, want) in [
        (
            vec!["report", "--period", "2026Q5"],
            "quorum: --period: `2026Q5` names no quarter; quarters are Q1 to Q4, such as 2026Q4\n",
        ),
        (
            vec!["report", "--period", "last-month"],
            "quorum: --period: `last-month` is not a period; use a quarter such as 2026Q4 or a month such as 2026-11\n",
        ),
        (
            vec!["report", "--period", "2026-11", "--format", "docx"],
            "quorum: --format: `docx` is not a format; use md, html or pdf\n",
        ),
        (
            vec!["report", "--period", "2026-11", "--format", "pdf"],
            "quorum: --format pdf needs --out FILE (a PDF is not written to the terminal)\n",
        ),
    ] {
        let (code, out, err) = run(&args, &env);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, "", want),
            "{args:?}"
        );
    }
    let (code, _, err) = run(
        &[
            "report",
            "--period",
            "2026Q4",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
            "--chromium",
            missing.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "quorum: cannot make a PDF: Chromium was not found at {} (install Debian's `chromium` package, or name it with --chromium PATH)\n",
            missing.display()
        )
    );
    assert!(!pdf.exists());
    assert!(!db.exists(), "nothing was created");
}

#[tokio::test]
#[ignore = "needs chromium (Debian's chromium package at /usr/bin/chromium)"]
async fn the_board_pack_prints_to_pdf_with_headless_chromium() {
    assert!(
        std::path::Path::new(quorum::report::DEFAULT_CHROMIUM).is_file(),
        "needs chromium: apt-get install chromium (.ci/run installs it)"
    );
    let h = a_quarter().await;
    let out = h.dir.path().join("pack.pdf");
    let (code, _, err) = run(
        &[
            "report",
            "--period",
            "2026Q3",
            "--format",
            "pdf",
            "--workspace",
            "acme",
            "--out",
            out.to_str().unwrap(),
        ],
        &[
            ("QUORUM_DATABASE_URL", h.url.as_str()),
            ("QUORUM_LOG", "warn"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    assert!(bytes.len() > 1000, "{} bytes", bytes.len());
}
