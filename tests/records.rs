//! Decisions and action items through the core's command entry (the one the
//! console, Discord and Slack share), with a controlled clock: every command,
//! the authority and verification rules, search ranking, the audit trail,
//! chases, the weekly update, and workspace isolation.

mod support;

use chrono::Duration;
use quorum::config::Config;
use support::core::{harness, harness_with};

const T0: &str = "2026-11-24T10:00:00Z"; // a Tuesday

#[tokio::test]
async fn a_decision_by_the_category_authority_is_approved_at_once() {
    let h = harness(T0, Duration::hours(1)).await;
    let r = h
        .as_user("cto", T0, r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"Mature; pgvector for embeddings""#)
        .await;
    assert_eq!(r, "Recorded decision 1: Adopt PostgreSQL as approved.");
    assert_eq!(h.tick(T0).await.sent, 0, "nobody needs pinging");
}

#[tokio::test]
async fn a_decision_without_authority_is_proposed_pings_the_authority_and_only_they_settle_it() {
    let h = harness(T0, Duration::hours(1)).await;
    let r = h
        .as_user("cto", T0, r#"/decision record title:"Cut cloud spend 10%" category:budget rationale:"Bill doubled""#)
        .await;
    assert!(
        r.contains("as proposed: cfo holds the authority for budget"),
        "{r}"
    );
    h.tick(T0).await;
    let pings = h.chat.texts();
    assert_eq!(pings.len(), 1);
    assert!(pings[0].contains("CFO: decision 1 \"Cut cloud spend 10%\" needs your approval\n  Category: budget\n  Proposed by: cto\n  Rationale: Bill doubled\n"), "{}", pings[0]);
    assert!(
        pings[0].contains(
            "\n  [Approve] /decision approve id:1\n  [Reject] /decision reject id:1 reason:\"...\""
        ),
        "{}",
        pings[0]
    );
    let e = h.fails("cto", T0, "/decision approve id:1").await;
    assert_eq!(
        e,
        "only the cfo may approve decision 1 (category budget); you are cto"
    );
    let e = h
        .fails("ana", T0, r#"/decision reject id:1 reason:"no""#)
        .await;
    assert!(e.starts_with("only the cfo may reject decision 1"), "{e}");
    assert_eq!(
        h.as_user("cfo", T0, "/decision approve id:1").await,
        "Approved decision 1: Cut cloud spend 10%."
    );
    let e = h.fails("cfo", T0, "/decision approve id:1").await;
    assert!(e.contains("is approved, not proposed"), "{e}");
    let show = h.cmd(T0, "/decision show id:1").await;
    assert!(show.contains("Status: approved"), "{show}");
    assert!(
        show.contains("cto: recorded as proposed") && show.contains("cfo: approved"),
        "the audit trail: {show}"
    );
}

#[tokio::test]
async fn rejecting_keeps_the_reason_and_superseding_links_both_ways() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cto",
        T0,
        r#"/decision record title:"Use MySQL" category:tech-stack rationale:"Team knows it""#,
    )
    .await;
    let r = h
        .as_user("cto", T0, r#"/decision record title:"Use PostgreSQL" category:tech-stack rationale:"Extensions" supersedes:1"#)
        .await;
    assert!(r.ends_with("as approved."), "{r}");
    let old = h.cmd(T0, "/decision show id:1").await;
    assert!(
        old.contains("Status: superseded") && old.contains("Superseded by: decision 2"),
        "{old}"
    );
    assert!(old.contains("cto: superseded by decision 2"), "{old}");
    let new = h.cmd(T0, "/decision show id:2").await;
    assert!(new.contains("Supersedes: decision 1"), "{new}");
    let e = h
        .fails(
            "cto",
            T0,
            r#"/decision record title:"x" category:tech-stack rationale:"y" supersedes:1"#,
        )
        .await;
    assert!(
        e.contains("decision 1 is already superseded by decision 2"),
        "{e}"
    );
    h.as_user(
        "ana",
        T0,
        r#"/decision record title:"Hire 3 SREs" category:hiring rationale:"On-call load""#,
    )
    .await;
    h.as_user(
        "cto",
        T0,
        r#"/decision reject id:3 reason:"Freeze until Q2""#,
    )
    .await;
    let show = h.cmd(T0, "/decision show id:3").await;
    assert!(
        show.contains("Status: rejected") && show.contains("Reason: Freeze until Q2"),
        "{show}"
    );
}

#[tokio::test]
async fn decision_list_filters_and_search_ranks_the_best_match_first() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user("cto", "2026-01-10T10:00:00Z", r#"/decision record title:"Adopt Kubernetes" category:architecture rationale:"We might use Postgres operators later""#).await;
    h.as_user("cto", T0, r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"Postgres with pgvector replaces Pinecone""#).await;
    h.as_user(
        "cfo",
        T0,
        r#"/decision record title:"Renew the AWS commit" category:budget rationale:"Discount""#,
    )
    .await;
    let all = h.cmd(T0, "/decision list").await;
    assert!(all.starts_with("3 decisions:"), "{all}");
    let arch = h.cmd(T0, "/decision list category:architecture").await;
    assert!(
        arch.starts_with("1 decision:") && arch.contains("Adopt Kubernetes"),
        "{arch}"
    );
    let recent = h.cmd(T0, "/decision list since:2026-06-01").await;
    assert!(
        recent.starts_with("2 decisions:") && !recent.contains("Kubernetes"),
        "{recent}"
    );
    let found = h.cmd(T0, "/decision search query:postgres").await;
    assert!(found.starts_with("2 matches, best first:"), "{found}");
    let lines: Vec<&str> = found.lines().collect();
    assert!(
        lines[1].contains("Adopt PostgreSQL"),
        "a title match ranks above a rationale mention: {found}"
    );
    assert!(lines[2].contains("Adopt Kubernetes"), "{found}");
    let none = h.cmd(T0, "/decision search query:oracle").await;
    assert_eq!(none, "No decision mentions \"oracle\".");
    // Short words match as prefixes; longer ones match their forms.
    let start = h.cmd(T0, "/decision search query:pinec").await;
    assert!(
        start.starts_with("1 match") && start.contains("Adopt PostgreSQL"),
        "no word `pinec`, so it is read as the start of one: {start}"
    );
    let short = h.cmd(T0, "/decision search query:pine").await;
    assert!(
        short.starts_with("1 match") && short.contains("Adopt PostgreSQL"),
        "{short}"
    );
    let forms = h.cmd(T0, "/decision search query:renewing").await;
    assert!(forms.contains("Renew the AWS commit"), "{forms}");
    let both = h.cmd(T0, "/decision search query:\"adopt kube\"").await;
    assert!(
        both.starts_with("1 match") && both.contains("Adopt Kubernetes"),
        "every word must match: {both}"
    );
    let e = h.fails("ana", T0, "/decision list since:yesterday").await;
    assert!(e.starts_with("since: `yesterday` is not a date"), "{e}");
    let e = h
        .fails(
            "ana",
            T0,
            r#"/decision record title:"x" category:budgte rationale:"y""#,
        )
        .await;
    assert!(
        e.starts_with("category: `budgte` is not a decision category; did you mean `budget`?"),
        "{e}"
    );
}

#[tokio::test]
async fn the_one_who_marked_an_item_done_cannot_verify_it() {
    let h = harness(T0, Duration::hours(1)).await;
    let r = h
        .as_user(
            "cto",
            T0,
            r#"/action add task:"Evaluate pgvector" owner:cto due:friday priority:high"#,
        )
        .await;
    assert_eq!(
        r,
        "Added action item 1: Evaluate pgvector [cto, high, due 2026-11-27, open]"
    );
    h.as_user("cto", T0, "/action done id:1").await;
    let e = h.fails("cto", T0, "/action verify id:1").await;
    assert_eq!(
        e,
        "you marked action item 1 done, so someone else must verify it (VERIFICATION REQUIRED)"
    );
    assert!(
        h.as_user("ceo", T0, "/action verify id:1")
            .await
            .starts_with("Verified action item 1")
    );
    let e = h.fails("ceo", T0, "/action done id:1").await;
    assert_eq!(e, "action item 1 is already verified");
    h.as_user(
        "ceo",
        T0,
        r#"/action reopen id:1 reason:"Benchmarks missing""#,
    )
    .await;
    let show = h.cmd(T0, "/action show id:1").await;
    for step in [
        "cto: created for cto",
        "cto: marked done",
        "ceo: verified",
        "ceo: reopened: Benchmarks missing",
    ] {
        assert!(show.contains(step), "missing `{step}` in {show}");
    }
    assert!(show.contains("reopened]"), "{show}");
}

#[tokio::test]
async fn action_edit_list_mine_and_overdue() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "ana",
        T0,
        r#"/action add task:"Draft Q1 budget" owner:cfo due:2026-11-20"#,
    )
    .await;
    h.as_user(
        "ana",
        T0,
        r#"/action add task:"Pick a VPN" owner:cto due:"in 3 days" priority:low"#,
    )
    .await;
    h.as_user(
        "ana",
        T0,
        r#"/action add task:"Hire SRE lead" owner:cto priority:high"#,
    )
    .await;
    let r = h
        .as_user(
            "ana",
            T0,
            r#"/action edit id:2 due:tomorrow priority:medium"#,
        )
        .await;
    assert_eq!(
        r,
        "Updated action item 2: Pick a VPN [cto, medium, due 2026-11-25, open]"
    );
    let mine = h.as_user("cto", T0, "/action mine").await;
    assert!(
        mine.starts_with("2 action items:") && mine.contains("Hire SRE lead"),
        "{mine}"
    );
    let overdue = h.cmd(T0, "/action list overdue:true").await;
    assert!(
        overdue.starts_with("1 action item:") && overdue.contains("Draft Q1 budget"),
        "{overdue}"
    );
    let cto = h.cmd(T0, "/action list owner:cto").await;
    assert!(
        cto.lines().nth(1).unwrap().contains("Hire SRE lead"),
        "high priority first: {cto}"
    );
    let show = h.cmd(T0, "/action show id:2").await;
    assert!(
        show.contains("due: 2026-11-27 -> 2026-11-25; priority: low -> medium"),
        "{show}"
    );
    for (line, want) in [
        (
            r#"/action add task:"x" owner:cto due:someday"#,
            "due: `someday` is not a due date",
        ),
        (
            r#"/action add task:"x" owner:cto priority:urgent"#,
            "priority: `urgent` is not a priority",
        ),
        (r#"/action add task:"x""#, "/action add needs owner:..."),
        ("/action done id:99", "there is no action item 99 here"),
        (
            r#"/action add task:"x" owner:cto meeting:7"#,
            "meeting: there is no meeting series 7 here",
        ),
        (
            "/action list status:finished",
            "status: `finished` is not a status",
        ),
        (
            "/action edit id:1 due:2026-11-20",
            "already has those values",
        ),
    ] {
        let e = h.fails("ana", T0, line).await;
        assert!(e.contains(want), "{line}: {e}");
    }
    assert!(
        h.cmd(T0, "/action list")
            .await
            .starts_with("3 action items:"),
        "errors changed nothing"
    );
}

#[tokio::test]
async fn each_owner_is_chased_once_a_day_at_nine_in_their_own_zone() {
    let mut config = Config::default();
    config
        .zones
        .insert("cto".into(), "Europe/Madrid".parse().unwrap());
    config
        .zones
        .insert("ceo".into(), "America/New_York".parse().unwrap());
    let h = harness_with(T0, config).await;
    h.cmd(
        T0,
        r#"/action add task:"Overdue thing" owner:cto due:2026-11-20"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/action add task:"Due Wednesday" owner:cto due:2026-11-25"#,
    )
    .await;
    h.cmd(T0, r#"/action add task:"Later" owner:cto due:2026-12-20"#)
        .await;
    h.cmd(
        T0,
        r#"/action add task:"CEO item" owner:ceo due:2026-11-25"#,
    )
    .await;
    // Wednesday 07:59 UTC = 08:59 in Madrid: not yet.
    assert_eq!(h.tick("2026-11-25T07:59:00Z").await.chases, 0);
    assert_eq!(
        h.tick("2026-11-25T08:00:00Z").await.chases,
        1,
        "09:00 Madrid"
    );
    let t = h.chat.texts();
    assert!(t[0].starts_with("[#general] cto: 2 action items need you today\n  Items:\n    - #1 Overdue thing (medium, overdue since 2026-11-20)  [Done #1: /action done id:1]\n    - #2 Due Wednesday (medium, due today)  [Done #2: /action done id:2]"), "{}", t[0]);
    assert!(!t[0].contains("Later"));
    assert_eq!(h.tick("2026-11-25T12:00:00Z").await.chases, 0, "once a day");
    assert_eq!(
        h.tick("2026-11-25T14:00:00Z").await.chases,
        1,
        "09:00 New York"
    );
    assert!(
        h.chat.texts()[1]
            .contains("ceo: 1 action item needs you today\n  Items:\n    - #4 CEO item")
    );
    h.as_user("cto", "2026-11-25T15:00:00Z", "/action done id:1")
        .await;
    h.as_user("cto", "2026-11-25T15:00:00Z", "/action done id:2")
        .await;
    assert_eq!(
        h.tick("2026-11-26T08:00:00Z").await.chases,
        0,
        "nothing left for the cto: no message"
    );
}

#[tokio::test]
async fn an_item_done_but_unverified_for_three_days_is_chased_to_someone_who_can_verify() {
    let h = harness(T0, Duration::hours(1)).await;
    h.cmd(T0, r#"/action add task:"Rotate keys" owner:cto"#)
        .await;
    h.as_user("bob", T0, "/action done id:1").await;
    let verify_chases = |h: &support::core::Harness| {
        h.chat
            .texts()
            .iter()
            .filter(|t| t.contains("needs verification"))
            .count()
    };
    h.tick("2026-11-27T09:59:00Z").await;
    assert_eq!(verify_chases(&h), 0);
    h.tick("2026-11-27T10:00:00Z").await;
    assert_eq!(verify_chases(&h), 1);
    h.tick("2026-11-28T10:00:00Z").await;
    assert_eq!(verify_chases(&h), 1, "not again the next day");
    let t = h.chat.texts();
    assert!(t[0].contains("cto: action item #1 \"Rotate keys\" needs verification\n  Marked done: by bob, 3 days ago\n"), "{}", t[0]);
    assert!(
        t[0].ends_with("\n  [Verify] /action verify id:1"),
        "{}",
        t[0]
    );
    h.tick("2026-11-30T10:00:00Z").await;
    assert_eq!(verify_chases(&h), 2, "again after another 3 days");
    h.as_user("cto", "2026-11-30T11:00:00Z", "/action verify id:1")
        .await;
    h.tick("2026-12-03T10:00:00Z").await;
    assert_eq!(verify_chases(&h), 2, "a verified item is not chased");
}

#[tokio::test]
async fn the_weekly_update_goes_out_on_friday_at_four() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cto",
        T0,
        r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"x""#,
    )
    .await;
    h.cmd(T0, r#"/action add task:"A" owner:cto due:2026-11-25"#)
        .await;
    h.cmd(T0, r#"/action add task:"B" owner:cfo"#).await;
    h.as_user("cfo", T0, "/action done id:2").await;
    assert_eq!(
        h.tick("2026-11-27T15:59:00Z").await.chases,
        2,
        "the cto's daily chase and B's verification chase"
    );
    let before = h.chat.texts().len();
    assert_eq!(h.tick("2026-11-27T16:00:00Z").await.chases, 1);
    let t = h.chat.texts();
    assert_eq!(t.len(), before + 1);
    assert_eq!(
        t[before],
        "[#general] Weekly update: Fri 20 Nov to Fri 27 Nov 2026\n  Decisions: 1 recorded\n  Action items: 2 opened, 1 closed, 0 verified, 1 overdue\n  Escalations: 0 raised, 0 climbed, 0 resolved\n  Approvals pending: 0\n  Decisions recorded:\n    - #1 Adopt PostgreSQL (tech-stack, approved by cto)\n  Action items by owner:\n    - cfo: 1 opened, 1 closed, 0 verified, 0 overdue\n    - cto: 1 opened, 0 closed, 0 verified, 1 overdue\n  Overdue action items:\n    - #1 A (cto)"
    );
    assert_eq!(
        h.tick("2026-11-27T18:00:00Z").await.chases,
        0,
        "once a week"
    );
}

#[tokio::test]
async fn meeting_reminders_list_the_open_items_of_attendees_and_of_the_series() {
    let h = harness(T0, Duration::hours(1)).await;
    h.cmd(T0, r#"/meeting add title:"CTO-CEO 1:1" when:"daily at 12:00" tz:UTC remind:15m attendees:ceo,cto"#).await;
    h.cmd(
        T0,
        r#"/action add task:"Evaluate pgvector" owner:cto due:2026-12-01"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/action add task:"Bring numbers" owner:cfo meeting:1"#,
    )
    .await;
    h.cmd(T0, r#"/action add task:"Unrelated" owner:coo"#).await;
    h.tick("2026-11-24T11:45:00Z").await;
    let t = h.chat.texts();
    let reminder = t
        .iter()
        .find(|l| l.contains("Reminder"))
        .expect("a reminder");
    assert!(
        reminder.contains(
            "\n  Open action items:\n    - #1 Evaluate pgvector (cto, due 2026-12-01)\n    - #2 Bring numbers (cfo)"
        ),
        "{reminder}"
    );
    assert!(!reminder.contains("Unrelated"));
}

#[tokio::test]
async fn workspaces_never_see_each_others_decisions_or_items() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cto",
        T0,
        r#"/decision record title:"Secret merger" category:strategy rationale:"x""#,
    )
    .await;
    h.cmd(T0, r#"/action add task:"Secret task" owner:cto"#)
        .await;
    for line in [
        "/decision show id:1",
        "/decision approve id:1",
        "/action done id:1",
        "/action show id:1",
    ] {
        let r = h.reply("globex", "ceo", T0, line).await;
        assert!(r.is_error && r.text.contains("here"), "{line}: {}", r.text);
    }
    for line in [
        "/decision list",
        "/decision search query:secret",
        "/action list",
        "/action mine",
    ] {
        let r = h.reply("globex", "cto", T0, line).await;
        assert!(!r.text.contains("Secret"), "{line}: {}", r.text);
    }
    let r = h
        .reply(
            "globex",
            "cto",
            T0,
            r#"/action add task:"x" owner:cto decision:1"#,
        )
        .await;
    assert!(
        r.is_error && r.text.contains("there is no decision 1 here"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn control_and_bidi_characters_never_reach_a_title_task_or_list() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cto",
        T0,
        "/decision record title:\"Adopt\u{0} Postgre\u{1b}SQL\u{7}\u{202E}\" category:tech-stack rationale:\"Mature\u{0}\"",
    )
    .await;
    h.as_user(
        "cto",
        T0,
        "/action add task:\"Evaluate\u{0} pgvector\u{2066}\" owner:cto",
    )
    .await;
    let list = h.cmd(T0, "/decision list").await;
    assert!(list.contains("] Adopt PostgreSQL ("), "{list}");
    let items = h.cmd(T0, "/action list").await;
    assert!(items.contains(": Evaluate pgvector ["), "{items}");
    for text in [&list, &items, &h.cmd(T0, "/decision show id:1").await] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{text:?}"
        );
    }
}

#[tokio::test]
async fn a_line_break_in_a_one_line_field_is_refused_so_no_line_can_be_forged() {
    let h = harness(T0, Duration::hours(1)).await;
    let forged = "Q3 plan\n[#finance] FAKE approved by CFO";
    let e = h
        .fails(
            "cfo",
            T0,
            &format!("/decision record title:\"{forged}\" category:budget rationale:\"x\""),
        )
        .await;
    assert_eq!(
        e,
        "title: the title must be one line; remove the line break"
    );
    let e = h
        .fails(
            "cfo",
            T0,
            "/decision record title:\"Q3\" category:budget rationale:\"x\n## 9. FAKE\"",
        )
        .await;
    assert_eq!(
        e,
        "rationale: the rationale must be one line; remove the line break"
    );
    let e = h
        .fails(
            "cto",
            T0,
            &format!("/action add task:\"{forged}\" owner:cto"),
        )
        .await;
    assert_eq!(e, "task: the task must be one line; remove the line break");
    let e = h
        .fails(
            "cto",
            T0,
            &format!("/meeting add title:\"{forged}\" when:\"weekly on monday at 10:00\""),
        )
        .await;
    assert!(e.contains("the title must be one line"), "{e}");
    let e = h
        .fails(
            "ana",
            T0,
            &format!("/escalate topic:budget severity:high summary:\"{forged}\""),
        )
        .await;
    assert_eq!(
        e,
        "summary: the summary must be one line; remove the line break"
    );
    assert_eq!(h.cmd(T0, "/decision list").await, "No decisions match.");
    assert!(
        h.cmd(T0, "/escalation list")
            .await
            .contains("No escalation")
    );
}

#[tokio::test]
async fn emoji_and_accented_letters_are_kept_as_typed() {
    let h = harness(T0, Duration::hours(1)).await;
    let title = "Presupuesto 2027 ✅ für Café";
    h.as_user(
        "cfo",
        T0,
        &format!("/decision record title:\"{title}\" category:budget rationale:\"Año nuevo 🎉\""),
    )
    .await;
    h.as_user(
        "cfo",
        T0,
        &format!("/action add task:\"{title}\" owner:cfo"),
    )
    .await;
    assert!(h.cmd(T0, "/decision list").await.contains(title));
    let show = h.cmd(T0, "/decision show id:1").await;
    assert!(show.contains("Rationale: Año nuevo 🎉"), "{show}");
    assert!(h.cmd(T0, "/action list").await.contains(title));
}

#[tokio::test]
async fn superseding_another_executives_decision_needs_their_authority_and_changes_nothing() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cfo",
        T0,
        r#"/decision record title:"Cloud budget 2027" category:budget rationale:"Plan""#,
    )
    .await;
    let e = h
        .fails("cto", T0, r#"/decision record title:"Move to bare metal" category:tech-stack rationale:"Cost" supersedes:1"#)
        .await;
    assert_eq!(
        e,
        "supersedes: decision 1 is a budget decision, and only the cfo may supersede it; you are cto"
    );
    let list = h.cmd(T0, "/decision list").await;
    assert!(
        list.starts_with("1 decision:") && list.contains("[approved] Cloud budget 2027"),
        "{list}"
    );
}

#[tokio::test]
async fn a_proposed_decision_cannot_be_superseded_and_its_authority_still_settles_it() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "ana",
        T0,
        r#"/decision record title:"Cloud budget 2027" category:budget rationale:"Plan""#,
    )
    .await;
    let e = h
        .fails("cto", T0, r#"/decision record title:"Move to bare metal" category:tech-stack rationale:"Cost" supersedes:1"#)
        .await;
    assert_eq!(
        e,
        "supersedes: decision 1 is proposed; only an approved decision can be superseded"
    );
    assert_eq!(
        h.as_user("cfo", T0, "/decision approve id:1").await,
        "Approved decision 1: Cloud budget 2027."
    );
}

#[tokio::test]
async fn a_proposal_supersedes_nothing_until_the_authority_approves_it() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cfo",
        T0,
        r#"/decision record title:"Budget v1" category:budget rationale:"Plan""#,
    )
    .await;
    let r = h
        .as_user(
            "ana",
            T0,
            r#"/decision record title:"Budget v2" category:budget rationale:"Revised" supersedes:1"#,
        )
        .await;
    assert!(r.contains("as proposed"), "{r}");
    let old = h.cmd(T0, "/decision show id:1").await;
    assert!(
        old.contains("Status: approved") && !old.contains("Superseded by"),
        "{old}"
    );
    h.as_user("cfo", T0, "/decision approve id:2").await;
    let old = h.cmd(T0, "/decision show id:1").await;
    assert!(
        old.contains("Status: superseded") && old.contains("Superseded by: decision 2"),
        "{old}"
    );
}

#[tokio::test]
async fn approving_a_proposal_that_supersedes_another_category_needs_both_authorities() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cfo",
        T0,
        r#"/decision record title:"Cloud budget 2027" category:budget rationale:"Plan""#,
    )
    .await;
    h.as_user("ana", T0, r#"/decision record title:"Move to bare metal" category:tech-stack rationale:"Cost" supersedes:1"#)
        .await;
    let e = h.fails("cto", T0, "/decision approve id:2").await;
    assert_eq!(
        e,
        "decision 2 supersedes decision 1 (budget), so approving it needs the cfo's authority as well; you are cto"
    );
    assert!(
        h.cmd(T0, "/decision show id:1")
            .await
            .contains("Status: approved")
    );
    assert!(
        h.cmd(T0, "/decision show id:2")
            .await
            .contains("Status: proposed")
    );
}

#[tokio::test]
async fn of_two_proposals_replacing_one_decision_only_the_first_approved_supersedes_it() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cfo",
        T0,
        r#"/decision record title:"Budget v1" category:budget rationale:"Plan""#,
    )
    .await;
    for title in ["Budget v2", "Budget v2b"] {
        h.as_user(
            "ana",
            T0,
            &format!(
                r#"/decision record title:"{title}" category:budget rationale:"x" supersedes:1"#
            ),
        )
        .await;
    }
    h.as_user("cfo", T0, "/decision approve id:3").await;
    let e = h.fails("cfo", T0, "/decision approve id:2").await;
    assert_eq!(
        e,
        "decision 2 would supersede decision 1, which is superseded now; reject it and record it again if it still applies"
    );
    assert!(
        h.cmd(T0, "/decision show id:1")
            .await
            .contains("Superseded by: decision 3")
    );
}

#[tokio::test]
async fn an_attribution_to_an_executive_never_reads_as_their_approval() {
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "mallory",
        T0,
        r#"/decision record title:"Double the cloud budget" category:budget rationale:"More" decided_by:cfo"#,
    )
    .await;
    h.tick(T0).await;
    let ping = h.chat.texts().pop().unwrap_or_default();
    assert!(
        ping.contains("needs your approval\n  Category: budget\n  Proposed by: mallory for cfo\n"),
        "{ping}"
    );
    for view in [
        h.cmd(T0, "/decision list").await,
        h.cmd(T0, "/decision search query:cloud").await,
    ] {
        assert!(
            view.contains("(budget, proposed by mallory for cfo, ") && !view.contains("by cfo"),
            "{view}"
        );
    }
    let show = h.cmd(T0, "/decision show id:1").await;
    assert!(
        show.contains("Status: proposed\nBy: proposed by mallory for cfo\nRecorded by mallory on "),
        "{show}"
    );
    h.as_user("cfo", T0, "/decision approve id:1").await;
    let list = h.cmd(T0, "/decision list").await;
    assert!(
        list.contains("(budget, approved by cfo, recorded by mallory, "),
        "once the cfo approves, the list says so: {list}"
    );
}

#[tokio::test]
async fn long_lists_come_in_pages_with_counts_and_the_next_page_to_ask_for() {
    let h = harness(T0, Duration::hours(1)).await;
    for i in 1..=45 {
        h.cmd(T0, &format!(r#"/action add task:"Item {i:02}" owner:cto"#))
            .await;
        h.as_user(
            "cto",
            T0,
            &format!(r#"/decision record title:"Choice {i:02} pgvector" category:tech-stack rationale:"r""#),
        )
        .await;
    }
    let first = h.cmd(T0, "/action list owner:cto").await;
    assert!(
        first.starts_with("45 action items (1-20 shown):\n"),
        "{first}"
    );
    assert_eq!(first.lines().count(), 22, "{first}");
    assert!(
        first.ends_with("\nNext page: /action list owner:cto page:2"),
        "{first}"
    );
    let last = h.cmd(T0, "/action list owner:cto page:3").await;
    assert!(
        last.starts_with("45 action items (41-45 shown):\n"),
        "{last}"
    );
    assert!(!last.contains("Next page"), "{last}");
    let all: Vec<String> = [
        first,
        h.cmd(T0, "/action list owner:cto page:2").await,
        last,
    ]
    .iter()
    .flat_map(|p| {
        p.lines()
            .filter(|l| l.contains(": Item "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    })
    .collect();
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (45, 45),
        "every item once across the pages"
    );
    let past = h.cmd(T0, "/action list page:9").await;
    assert!(past.starts_with("No action items on page 9"), "{past}");
    let e = h.fails("ana", T0, "/action list page:0").await;
    assert!(e.starts_with("page: `0` is not a page"), "{e}");

    let d = h.cmd(T0, "/decision list category:tech-stack page:2").await;
    assert!(d.starts_with("45 decisions (21-40 shown):\n"), "{d}");
    assert!(
        d.ends_with("\nNext page: /decision list category:tech-stack page:3"),
        "{d}"
    );
    let s = h.cmd(T0, r#"/decision search query:"pgvector""#).await;
    assert!(s.starts_with("Matches 1-20, best first:\n"), "{s}");
    assert!(
        s.ends_with("\nNext page: /decision search query:\"pgvector\" page:2"),
        "{s}"
    );
    let s3 = h
        .cmd(T0, r#"/decision search query:"pgvector" page:3"#)
        .await;
    assert!(s3.starts_with("Matches 41-45, best first:\n"), "{s3}");
}

#[tokio::test]
async fn a_week_with_nothing_in_it_sends_no_update_and_none_goes_out_later_than_the_grace() {
    // A fresh database, ticked on a Friday after 16:00: nothing happened.
    let h = harness(T0, Duration::hours(1)).await;
    assert_eq!(h.tick("2026-11-27T16:00:00Z").await.chases, 0);
    assert!(
        !h.chat.texts().iter().any(|t| t.contains("Weekly update")),
        "{:#?}",
        h.chat.texts()
    );
    // Something happens the next week; Quorum is down at 16:00 and back
    // at 17:01, more than the grace period (1 hour) later: no update.
    h.cmd("2026-11-30T10:00:00Z", r#"/action add task:"A" owner:cto"#)
        .await;
    h.tick("2026-12-04T17:01:00Z").await;
    assert!(
        !h.chat.texts().iter().any(|t| t.contains("Weekly update")),
        "{:#?}",
        h.chat.texts()
    );
    // The week after, back at 16:59: within the grace period, it goes out.
    h.cmd("2026-12-07T10:00:00Z", r#"/action add task:"B" owner:cto"#)
        .await;
    h.tick("2026-12-11T16:59:00Z").await;
    let updates: Vec<String> = h
        .chat
        .texts()
        .into_iter()
        .filter(|t| t.contains("Weekly update"))
        .collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert!(
        updates[0].starts_with("[#general] Weekly update: Fri 4 Dec to Fri 11 Dec 2026\n"),
        "{}",
        updates[0]
    );
    assert!(
        updates[0].contains("Action items: 1 opened"),
        "{}",
        updates[0]
    );
}

#[tokio::test]
async fn exports_say_who_approved_or_rejected_and_when() {
    let h = harness(T0, Duration::hours(1)).await;
    for title in ["Cut spend", "Open an office"] {
        h.as_user(
            "cto",
            T0,
            &format!(r#"/decision record title:"{title}" category:budget rationale:"Why not""#),
        )
        .await;
    }
    h.as_user("cfo", "2026-11-24T11:05:00Z", "/decision approve id:1")
        .await;
    h.as_user(
        "cfo",
        "2026-11-25T09:30:00Z",
        r#"/decision reject id:2 reason:"Not this year""#,
    )
    .await;
    let export = |format| {
        let app = h.app.clone();
        async move {
            app.decisions
                .export(&app.config, "acme", None, format)
                .await
                .unwrap()
        }
    };
    use quorum::service::decisions::ExportFormat;
    let csv = export(ExportFormat::Csv).await;
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",rationale,approved_by,rejected_by,reject_reason,settled_at"),
        "new columns come last: {csv}"
    );
    assert!(csv.contains(",Why not,cfo,,,2026-11-24 11:05\n"), "{csv}");
    assert!(
        csv.contains(",Why not,,cfo,Not this year,2026-11-25 09:30\n"),
        "{csv}"
    );
    let md = export(ExportFormat::Markdown).await;
    assert!(
        md.contains("- Approved by: cfo on 2026-11-24 11:05\n"),
        "{md}"
    );
    assert!(
        md.contains("- Rejected by: cfo on 2026-11-25 09:30: Not this year\n"),
        "{md}"
    );
    let json = export(ExportFormat::Json).await;
    assert!(
        json.contains("\"rejected_by\": \"cfo\"")
            && json.contains("\"settled_at\": \"2026-11-24 11:05\""),
        "{json}"
    );
}

#[tokio::test]
async fn a_typo_in_an_owner_or_attendee_gets_did_you_mean_and_changes_nothing() {
    let org = "[org.ceo]\nname = \"Chief Executive\"\n[org.cto]\nname = \"Chief Technology\"\n";
    let h = support::core::harness_with(
        T0,
        quorum::config::Config::from_toml(org, "t.toml").unwrap(),
    )
    .await;
    let e = h
        .fails("ana", T0, r#"/action add task:"Rotate keys" owner:ctoo"#)
        .await;
    assert_eq!(
        e,
        "owner: `ctoo` is not in the org chart; did you mean `cto`? Roles: ceo, cto"
    );
    let e = h
        .fails(
            "ana",
            T0,
            r#"/meeting add title:"Exec" when:"daily at 10:00" attendees:ceo,ctoo"#,
        )
        .await;
    assert!(
        e.starts_with("attendees: `ctoo` is not in the org chart; did you mean `cto`?"),
        "{e}"
    );
    assert!(h.cmd(T0, "/action list").await.contains("No action items"));
    assert!(
        h.cmd(T0, "/meeting list")
            .await
            .contains("No meeting series")
    );
    // Someone outside the org chart is taken as typed.
    h.cmd(T0, r#"/action add task:"Book venue" owner:bob"#)
        .await;
}

#[tokio::test]
async fn search_finds_an_old_decision_behind_thousands_of_newer_ones() {
    // On PostgreSQL the newest 5,000 decisions of a workspace are matched
    // in order and older ones looked up through the GIN index only when
    // the newest hold too few matches: the old decision must still be
    // found, and a word on every decision must be answered from the newest.
    let h = harness(T0, Duration::hours(1)).await;
    h.as_user(
        "cto",
        T0,
        r#"/decision record title:"Adopt Pinecone for vectors" category:tech-stack rationale:"managed""#,
    )
    .await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    sqlx::query(
        "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority,
                                recorded_by, status, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5200)
         SELECT d.workspace, 'Filler decision ' || CAST(n.i AS TEXT), d.category, 'routine',
                d.decided_by, d.authority, d.recorded_by, d.status, d.created_at + n.i, d.updated_at + n.i
         FROM n, decisions d WHERE d.id = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let old = h.cmd(T0, "/decision search query:pinecone").await;
    assert!(old.contains("Adopt Pinecone for vectors"), "{old}");
    let prefix = h.cmd(T0, "/decision search query:pinec").await;
    assert!(prefix.contains("Adopt Pinecone for vectors"), "{prefix}");
    let common = h.cmd(T0, "/decision search query:filler").await;
    assert!(
        common.starts_with("Matches 1-20, best first:\n"),
        "{common}"
    );
    assert!(
        common.contains("Filler decision 5200"),
        "newest first: {common}"
    );
    assert!(!common.contains("Pinecone"), "{common}");
}

#[tokio::test]
async fn action_mine_finds_an_open_item_behind_a_thousand_closed_ones_and_shows_the_most_urgent() {
    // An owner with 1,200 verified high-priority items and one open
    // low-priority item: /action mine must show the open one (it read the
    // owner's first 1,000 items of any status and kept the open ones).
    let h = harness(T0, Duration::hours(1)).await;
    h.cmd(
        T0,
        r#"/action add task:"Renew the vendor contract" owner:cto priority:low"#,
    )
    .await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    sqlx::query(
        "INSERT INTO actions (workspace, task, owner, due_date, priority, status, created_by,
                              created_at, updated_at, done_by, done_at, verified_by, verified_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
         SELECT a.workspace, 'Closed item ' || CAST(n.i AS TEXT), a.owner, '2026-01-01', 'high',
                'verified', a.created_by, a.created_at, a.updated_at, 'cto', a.created_at, 'ceo', a.created_at
         FROM n, actions a WHERE a.id = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mine = h.as_user("cto", T0, "/action mine").await;
    assert!(mine.starts_with("1 action item:"), "{mine}");
    assert!(mine.contains("Renew the vendor contract"), "{mine}");

    for i in 1..=24 {
        h.cmd(
            T0,
            &format!(r#"/action add task:"Open item {i:02}" owner:cto priority:high"#),
        )
        .await;
    }
    let mine = h.as_user("cto", T0, "/action mine").await;
    assert!(
        mine.starts_with("25 open action items, the 20 most urgent:\n"),
        "{mine}"
    );
    assert!(
        !mine.contains("Renew the vendor contract"),
        "low priority comes last: {mine}"
    );
    assert!(!mine.contains("Closed item"), "{mine}");
    assert!(
        mine.ends_with("\nAll of them: /action list owner:cto status:open"),
        "{mine}"
    );
    let list = h.cmd(T0, "/action list owner:cto status:open").await;
    assert!(list.starts_with("25 action items (1-20 shown):"), "{list}");
}
