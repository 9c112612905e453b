//! The risk register through the core's command entry (the one the console,
//! Discord and Slack share) with a controlled clock: adding, listing,
//! updating and closing risks, the audit trail, refusals that change
//! nothing, and the review reminder queued once per cadence. Runs on SQLite,
//! and on PostgreSQL with QUORUM_TEST_BACKEND=postgres (as CI does).

mod support;

use quorum::config::Config;
use support::core::{Harness, harness_with};

const T0: &str = "2026-11-24T10:00:00Z"; // a Tuesday

const ORG: &str = "[org.ceo]\nname = \"Chief Executive\"\n[org.cto]\nname = \"Chief Technology\"\n[org.cfo]\nname = \"Chief Financial\"\n";

async fn register() -> Harness {
    harness_with(T0, Config::from_toml(ORG, "t.toml").unwrap()).await
}

#[tokio::test]
async fn a_risk_is_added_listed_most_severe_first_updated_and_closed_with_its_history() {
    let h = register().await;
    let r = h
        .cmd(
            T0,
            r#"/risk add title:"Key supplier insolvent" severity:high owner:cto mitigation:"Second source by Q1""#,
        )
        .await;
    assert_eq!(
        r,
        "Added risk #1 [high] Key supplier insolvent (owner cto, open, review monthly; next review 2026-12-24)\nMitigation: Second source by Q1"
    );
    h.cmd(
        T0,
        r#"/risk add title:"Cash runway under 12 months" severity:critical owner:cfo mitigation:"Bridge round" review:weekly"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/risk add title:"Office lease" severity:low owner:ceo mitigation:"Renew early" review:quarterly"#,
    )
    .await;
    let list = h.cmd(T0, "/risk list").await;
    assert_eq!(
        list,
        "3 open risks, most severe first:\n\
         #2 [critical] Cash runway under 12 months (owner cfo, open, review weekly; next review 2026-12-01)\n  Mitigation: Bridge round\n\
         #1 [high] Key supplier insolvent (owner cto, open, review monthly; next review 2026-12-24)\n  Mitigation: Second source by Q1\n\
         #3 [low] Office lease (owner ceo, open, review quarterly; next review 2027-02-24)\n  Mitigation: Renew early"
    );
    let mine = h.cmd(T0, "/risk list owner:cfo").await;
    assert!(
        mine.starts_with("1 open risk, most severe first:\n#2 "),
        "{mine}"
    );

    let r = h
        .as_user(
            "cto",
            "2026-11-25T09:00:00Z",
            r#"/risk update id:1 severity:critical status:mitigating mitigation:"Second source signed""#,
        )
        .await;
    assert_eq!(
        r,
        "Updated risk #1 [critical] Key supplier insolvent (owner cto, mitigating, review monthly; next review 2026-12-24): severity high -> critical; mitigation changed; status open -> mitigating"
    );
    let r = h
        .cmd("2026-11-26T09:00:00Z", "/risk update id:1 review:weekly")
        .await;
    assert!(r.contains("review weekly; next review 2026-12-03"), "{r}");

    let r = h.cmd("2026-11-27T09:00:00Z", "/risk close id:1").await;
    assert_eq!(
        r,
        "Closed risk 1: Key supplier insolvent. Its reviews stop."
    );
    let list = h.cmd(T0, "/risk list").await;
    assert!(list.starts_with("2 open risks"), "{list}");
    assert!(!list.contains("Key supplier"), "{list}");
    let all = h.cmd(T0, "/risk list all:true").await;
    assert!(
        all.contains("#1 [critical] Key supplier insolvent (owner cto, closed, review weekly) closed 2026-11-27 09:00 UTC"),
        "{all}"
    );

    let store = &h.app.store;
    let trail = store.audit_trail("acme", "risk", 1).await.unwrap();
    let changes: Vec<(&str, &str)> = trail
        .iter()
        .map(|a| (a.actor.as_str(), a.change.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            ("ana", "added for cto (high severity, monthly review)"),
            (
                "cto",
                "severity high -> critical; mitigation changed; status open -> mitigating"
            ),
            ("ana", "review monthly -> weekly"),
            ("ana", "closed"),
        ]
    );
    // Open risks of the workspace, as the dashboard reads them.
    let open = store.open_risks("acme", None).await.unwrap();
    assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 3]);
    let cfo = store.open_risks("acme", Some("cfo")).await.unwrap();
    assert_eq!(cfo.iter().map(|r| r.id).collect::<Vec<_>>(), [2]);
    assert!(store.open_risks("other", None).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_gets_a_specific_error_and_changes_nothing() {
    let h = register().await;
    let cases = [
        (
            r#"/risk add title:"x" severity:hihg owner:cto mitigation:"y""#,
            "severity: `hihg` is not a severity; did you mean `high`? use one of low, medium, high, critical",
        ),
        (
            r#"/risk add title:"x" severity:high owner:ctoo mitigation:"y""#,
            "owner: `ctoo` is not in the org chart; did you mean `cto`? Roles: ceo, cfo, cto",
        ),
        (
            r#"/risk add title:"x" severity:high owner:cto mitigation:"y" review:montly"#,
            "review: `montly` is not a review cadence; did you mean `monthly`? use one of weekly, monthly, quarterly",
        ),
        (
            r#"/risk add title:"x" severity:high owner:cto"#,
            "/risk add needs mitigation:... (the mitigation plan); see /help risk add",
        ),
        (
            "/risk update id:9 severity:low",
            "there is no risk 9 here; see /risk list",
        ),
        (
            "/risk close id:9",
            "there is no risk 9 here; see /risk list",
        ),
        (
            "/risk update id:1",
            "/risk update needs something to change: title, severity, owner, mitigation, review or status",
        ),
        ("/risk list all:maybe", "all: `maybe` is not true or false"),
    ];
    for (line, want) in cases {
        assert_eq!(h.fails("ana", T0, line).await, want, "{line}");
    }
    let r = h.cmd(T0, "/risk list").await;
    assert!(r.starts_with("No open risks."), "{r}");

    h.cmd(
        T0,
        r#"/risk add title:"Churn" severity:medium owner:ceo mitigation:"Exec sponsor per top-20 account""#,
    )
    .await;
    let e = h
        .fails("ana", T0, "/risk update id:1 severity:medium")
        .await;
    assert_eq!(
        e,
        "risk 1 already has those values; nothing changed (see /risk list)"
    );
    let e = h.fails("ana", T0, "/risk update id:1 owner:cfoo").await;
    assert!(
        e.starts_with("owner: `cfoo` is not in the org chart; did you mean `cfo`?"),
        "{e}"
    );
    h.cmd(T0, "/risk close id:1").await;
    assert_eq!(
        h.fails("ana", T0, "/risk close id:1").await,
        "risk 1 is already closed"
    );
    let e = h.fails("ana", T0, "/risk update id:1 severity:high").await;
    assert_eq!(
        e,
        "risk 1 is closed; reopen it with /risk update id:1 status:open"
    );
    // Another workspace sees none of it.
    let r = h.reply("other", "ana", T0, "/risk close id:1").await;
    assert!(
        r.is_error && r.text.contains("there is no risk 1 here"),
        "{}",
        r.text
    );
    assert_eq!(
        h.app
            .store
            .audit_trail("acme", "risk", 1)
            .await
            .unwrap()
            .len(),
        2,
        "added and closed; nothing for the refusals"
    );
}

#[tokio::test]
async fn a_review_reminds_the_owner_once_per_cadence_and_stops_when_closed() {
    let h = register().await;
    h.cmd(
        T0,
        r#"/risk add title:"Cash runway" severity:critical owner:cfo mitigation:"Bridge round" review:weekly"#,
    )
    .await;
    h.tick("2026-11-30T10:00:00Z").await;
    assert!(h.chat.texts().is_empty(), "not due for a week");

    h.tick("2026-12-01T10:00:00Z").await;
    h.tick("2026-12-01T10:05:00Z").await;
    let texts = h.chat.texts();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert_eq!(
        texts[0],
        "[#general] cfo (Chief Financial): Time to review risk 1: Cash runway\n  Severity: critical\n  Status: open\n  Review: weekly\n  Mitigation: Bridge round\n  (reviewed weekly by its owner; change it with /risk update id:1 or close it with /risk close id:1)\n  [Close] /risk close id:1"
    );
    let row = h.app.store.risk("acme", 1).await.unwrap().unwrap();
    assert_eq!(
        row.next_review_at,
        Some(support::core::at("2026-12-08T10:00:00Z").timestamp())
    );

    // Down for three weeks: one reminder covers the missed reviews, and
    // the next is set on the cadence after now.
    h.tick("2026-12-29T11:00:00Z").await;
    h.tick("2026-12-29T11:01:00Z").await;
    assert_eq!(h.chat.texts().len(), 2);
    let row = h.app.store.risk("acme", 1).await.unwrap().unwrap();
    assert_eq!(
        row.next_review_at,
        Some(support::core::at("2027-01-05T10:00:00Z").timestamp())
    );

    h.cmd("2026-12-30T09:00:00Z", "/risk close id:1").await;
    h.tick("2027-01-06T10:00:00Z").await;
    assert_eq!(h.chat.texts().len(), 2, "a closed risk is not reviewed");
}

#[tokio::test]
async fn two_instances_ticking_the_same_review_queue_one_reminder() {
    let h = register().await;
    h.cmd(
        T0,
        r#"/risk add title:"Churn" severity:high owner:ceo mitigation:"Sponsors" review:weekly"#,
    )
    .await;
    let other = quorum::service::risks::Risks {
        store: h.app.store.clone(),
    };
    let now = support::core::at("2026-12-01T10:00:00Z");
    let (a, b) = tokio::join!(
        other.remind_reviews(&h.app.config, now),
        h.app.risks.remind_reviews(&h.app.config, now),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "queued once between them");
    h.tick("2026-12-01T10:00:01Z").await;
    assert_eq!(h.chat.texts().len(), 1);
}

#[tokio::test]
async fn the_close_button_runs_the_close_command() {
    let h = register().await;
    h.cmd(
        T0,
        r#"/risk add title:"Churn" severity:high owner:ceo mitigation:"Sponsors""#,
    )
    .await;
    let r = h
        .app
        .press(
            &support::core::actor("acme", "ceo"),
            "risk:close:1",
            support::core::at(T0),
        )
        .await;
    assert_eq!(r.text, "Closed risk 1: Churn. Its reviews stop.");
    let row = h.app.store.risk("acme", 1).await.unwrap().unwrap();
    assert_eq!(row.status, "closed");
    assert_eq!(row.closed_by.as_deref(), Some("ceo"));
}
