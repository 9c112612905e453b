//! Chases that learn and keep quiet (issue 13): unanswered approvals are
//! chased, then escalated, once each; chases and non-critical pings wait
//! for working hours and weekdays in the recipient's zone while critical
//! escalations go at once; a chronically overdue item is escalated to the
//! owner's manager instead of being chased forever. Driven through the
//! real core (`App::handle_line`, the console's entry) and a scheduler
//! ticked with a controlled clock.

mod support;

use quorum::config::Config;
use support::core::{Harness, harness_with};

const ORG: &str = r#"
[defaults]
channel = "exec-team"

[org.ceo]
name = "Chief Executive"
user = "u-ceo"
channel = "ceo"

[org.cto]
name = "Chief Technology"
user = "u-cto"
channel = "cto"

[org.cfo]
name = "Chief Financial"
user = "u-cfo"
channel = "cfo"
"#;

fn config(extra: &str) -> Config {
    Config::from_toml(&format!("{ORG}\n{extra}"), "test.toml").unwrap()
}

const T0: &str = "2026-11-24T10:00:00Z"; // a Tuesday

fn count(h: &Harness, needle: &str) -> usize {
    h.chat.texts().iter().filter(|t| t.contains(needle)).count()
}

fn find(h: &Harness, needle: &str) -> String {
    h.chat
        .texts()
        .into_iter()
        .find(|t| t.contains(needle))
        .unwrap_or_else(|| panic!("no post contains {needle:?}: {:#?}", h.chat.texts()))
}

#[tokio::test]
async fn an_unanswered_approval_is_chased_after_two_days_then_escalated_after_seven_once_each() {
    let h = harness_with(T0, config("")).await;
    h.cmd(
        T0,
        r#"/decision record title:"Cut cloud spend" category:budget rationale:"The bill doubled""#,
    )
    .await;
    // Approved in time: never chased.
    h.cmd(
        T0,
        r#"/decision record title:"New laptops" category:budget rationale:"Old ones are slow""#,
    )
    .await;
    h.as_user("u-cfo", "2026-11-25T10:00:00Z", "/decision approve id:2")
        .await;
    h.tick(T0).await;
    assert_eq!(count(&h, "needs your approval"), 2, "the two requests");
    h.tick("2026-11-26T09:59:00Z").await;
    assert_eq!(
        count(&h, "still needs your approval"),
        0,
        "not before 2 days"
    );
    h.tick("2026-11-26T10:00:00Z").await;
    assert_eq!(count(&h, "still needs your approval"), 1);
    let chase = find(&h, "still needs your approval");
    assert!(
        chase.starts_with(
            "[#cfo] @u-cfo CFO (Chief Financial): decision 1 \"Cut cloud spend\" still needs your approval\n  Category: budget\n  Proposed by: ana\n  Waiting: 2 days\n  Rationale: The bill doubled\n  Escalated if unanswered by: Tue 1 Dec 2026 10:00 UTC\n"
        ),
        "{chase}"
    );
    assert!(
        chase.contains("[Approve] /decision approve id:1"),
        "{chase}"
    );
    assert!(chase.contains("[Reject] /decision reject id:1"), "{chase}");
    h.tick("2026-11-27T10:00:00Z").await;
    h.tick("2026-11-30T10:00:00Z").await;
    assert_eq!(count(&h, "still needs your approval"), 1, "chased once");
    assert_eq!(count(&h, "ESCALATION"), 0);

    h.tick("2026-12-01T10:00:00Z").await;
    assert_eq!(count(&h, "ESCALATION"), 1);
    let ping = find(&h, "ESCALATION");
    assert!(
        ping.starts_with("[#exec-team] @u-ceo @u-cfo @u-cto Executive team: ESCALATION #1 [MEDIUM] budget: decision 1 \"Cut cloud spend\" has waited 7 days for the cfo's approval\n  Raised by: quorum in #cfo\n"),
        "{ping}"
    );
    h.tick("2026-12-01T10:00:05Z").await;
    h.tick("2026-12-01T11:00:00Z").await;
    assert_eq!(count(&h, "ESCALATION #1"), 1, "escalated once");
    let list = h.cmd("2026-12-01T11:00:00Z", "/escalation list").await;
    assert_eq!(list.matches("budget").count(), 1, "{list}");
    assert!(!list.contains("#2"), "{list}");
    // The escalation is a real one: the executive team acknowledges it.
    h.as_user("u-ceo", "2026-12-01T11:00:00Z", "/escalation ack id:1")
        .await;
}

#[tokio::test]
async fn an_approval_chase_due_on_a_weekend_waits_for_monday() {
    let thursday = "2026-11-26T10:00:00Z";
    let h = harness_with(thursday, config("")).await;
    h.cmd(
        thursday,
        r#"/decision record title:"Cut cloud spend" category:budget rationale:"x""#,
    )
    .await;
    h.tick(thursday).await;
    // Due Saturday 10:00 UTC; the cfo (no working hours, UTC) is off.
    h.tick("2026-11-28T10:00:00Z").await;
    h.tick("2026-11-29T23:59:00Z").await;
    assert_eq!(
        count(&h, "still needs your approval"),
        0,
        "not at the weekend"
    );
    h.tick("2026-11-30T08:59:00Z").await;
    assert_eq!(
        count(&h, "still needs your approval"),
        0,
        "Monday before 09:00"
    );
    h.tick("2026-11-30T09:00:00Z").await;
    assert_eq!(count(&h, "still needs your approval"), 1, "Monday 09:00");
}

#[tokio::test]
async fn the_daily_chase_skips_weekends_and_waits_for_working_hours() {
    let h = harness_with(
        T0,
        config(
            r#"
[org.coo]
name = "Chief Operating"
user = "u-coo"
channel = "coo"
timezone = "Europe/Madrid"
working_hours = "mon-fri 10:00-18:00"

[actions]
escalate_overdue_after = "30d"
"#,
        ),
    )
    .await;
    h.cmd(T0, r#"/action add task:"Budget" owner:cto due:2026-11-27"#)
        .await;
    h.cmd(T0, r#"/action add task:"Vendors" owner:coo due:2026-11-27"#)
        .await;
    // Friday 09:30 in Madrid: past chase_at, but the coo starts at 10:00.
    h.tick("2026-11-27T08:30:00Z").await;
    assert_eq!(
        count(&h, "coo (Chief Operating)"),
        0,
        "before working hours"
    );
    h.tick("2026-11-27T09:00:00Z").await;
    assert_eq!(count(&h, "cto (Chief Technology): 1 action item"), 1);
    assert_eq!(
        count(&h, "coo (Chief Operating): 1 action item"),
        1,
        "10:00 Madrid"
    );
    h.tick("2026-11-28T09:00:00Z").await; // Saturday
    h.tick("2026-11-29T09:30:00Z").await; // Sunday
    assert_eq!(
        count(&h, "action item needs you today"),
        2,
        "nothing at the weekend"
    );
    h.tick("2026-11-30T09:00:00Z").await; // Monday
    assert_eq!(count(&h, "cto (Chief Technology): 1 action item"), 2);
    assert!(
        h.chat
            .texts()
            .last()
            .unwrap()
            .contains("#1 Budget (medium, overdue since 2026-11-27)"),
        "{:?}",
        h.chat.texts().last()
    );
}

#[tokio::test]
async fn a_medium_escalation_at_the_last_level_does_not_repeat_at_night_but_a_critical_one_does() {
    let h = harness_with(
        T0,
        config("").with_hours(&["ceo", "cto", "cfo"], "mon-fri 09:00-18:00"),
    )
    .await;
    let afternoon = "2026-11-24T16:00:00Z";
    let r = h
        .reply(
            "acme",
            "ana",
            afternoon,
            r#"/escalate topic:budget severity:medium summary:"Invoice late" level:exec-team"#,
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    let r = h
        .reply(
            "acme",
            "ana",
            afternoon,
            r#"/escalate topic:budget severity:critical summary:"Payroll failed" level:exec-team"#,
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    h.tick(afternoon).await;
    assert_eq!(count(&h, "ESCALATION #1"), 1);
    assert_eq!(count(&h, "ESCALATION #2"), 1);
    // Medium repeats after 4h (20:00), critical after 15m: at night only
    // the critical one is repeated.
    for t in [
        "2026-11-24T20:00:00Z",
        "2026-11-24T20:15:00Z",
        "2026-11-25T00:00:00Z",
        "2026-11-25T04:00:00Z",
    ] {
        h.tick(t).await;
    }
    assert_eq!(count(&h, "ESCALATION #1"), 1, "no medium ping at night");
    assert!(count(&h, "ESCALATION #2") >= 3, "critical ones never wait");
    h.tick("2026-11-25T08:59:00Z").await;
    assert_eq!(count(&h, "ESCALATION #1"), 1);
    h.tick("2026-11-25T09:00:00Z").await;
    assert_eq!(count(&h, "ESCALATION #1"), 2, "posted when the day begins");
    let show = h.cmd("2026-11-25T09:00:00Z", "/escalation show id:1").await;
    assert!(show.contains("held for working hours"), "{show}");
}

#[tokio::test]
async fn an_item_overdue_five_working_days_is_escalated_once_and_no_longer_chased() {
    let h = harness_with(T0, config("")).await;
    h.cmd(
        T0,
        r#"/action add task:"Rotate keys" owner:cto due:2026-11-20"#,
    )
    .await;
    h.tick("2026-11-26T09:00:00Z").await; // Thursday: 4 working days overdue
    assert_eq!(
        count(&h, "#1 Rotate keys (medium, overdue since 2026-11-20)"),
        1
    );
    assert_eq!(count(&h, "ESCALATION"), 0);
    h.tick("2026-11-27T09:00:00Z").await; // Friday: 5
    assert_eq!(
        count(&h, "#1 Rotate keys (medium, overdue"),
        1,
        "not chased again"
    );
    let ping = find(&h, "ESCALATION #1");
    assert!(
        ping.starts_with("[#exec-team] @u-ceo @u-cfo @u-cto Executive team: ESCALATION #1 [MEDIUM] overdue: action item #1 \"Rotate keys\" (cto) has been overdue since 2026-11-20\n"),
        "{ping}"
    );
    h.tick("2026-11-30T09:00:00Z").await;
    h.tick("2026-12-01T09:00:00Z").await;
    assert_eq!(
        count(&h, "Rotate keys (medium"),
        1,
        "the chase stopped repeating it"
    );
    let first_pings = h
        .chat
        .texts()
        .iter()
        .filter(|t| t.contains("ESCALATION #1") && !t.contains("still not acknowledged"))
        .count();
    assert_eq!(
        first_pings, 1,
        "escalated once (then repeated as escalations are)"
    );
    assert_eq!(count(&h, "ESCALATION #2"), 0);
    // A new due date starts over: chased again when it passes.
    h.as_user(
        "u-cto",
        "2026-12-01T10:00:00Z",
        "/action edit id:1 due:2026-12-02",
    )
    .await;
    h.tick("2026-12-03T09:00:00Z").await;
    assert_eq!(
        count(&h, "#1 Rotate keys (medium, overdue since 2026-12-02)"),
        1
    );
}

#[test]
fn the_chase_and_escalation_delays_are_configurable_and_checked() {
    let c = config(
        r#"
[decisions]
chase_after = "1d"
escalate_after = "3bd"

[actions]
escalate_overdue_after = "10bd"
"#,
    );
    assert_eq!(c.approval_chase_after.to_string(), "1d");
    assert_eq!(c.approval_escalate_after.to_string(), "3 business days");
    assert_eq!(c.escalate_overdue_after.to_string(), "10 business days");
    let err = Config::from_toml(
        &format!("{ORG}\n[decisions]\nchase_after = \"soon\"\n"),
        "q.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("q.toml:"), "{err}");
    assert!(err.contains("decisions.chase_after"), "{err}");
}

trait WithHours {
    fn with_hours(self, roles: &[&str], hours: &str) -> Self;
}

impl WithHours for Config {
    fn with_hours(mut self, roles: &[&str], hours: &str) -> Config {
        for r in roles {
            let zone = self.zone_of(r);
            self.working_hours.insert(
                r.to_string(),
                quorum::domain::escalation::WorkingHours::parse(hours, zone).unwrap(),
            );
        }
        self
    }
}

/// The Snooze button of the first post whose text contains `needle`, and
/// the delivery id of that post.
fn snooze_of(h: &Harness, needle: &str) -> (Option<String>, i64) {
    let texts = h.chat.texts();
    let posts = h.chat.posts.lock().unwrap();
    let i = texts
        .iter()
        .position(|t| t.contains(needle))
        .unwrap_or_else(|| panic!("no post contains {needle:?}: {texts:#?}"));
    let post = &posts[i];
    let id = post.key.trim_start_matches("quorum-").parse().unwrap();
    let button = post
        .buttons
        .iter()
        .find(|b| b.label == "Snooze 1h")
        .map(|b| b.id.clone());
    (button, id)
}

#[tokio::test]
async fn chases_and_approval_requests_can_be_snoozed_for_an_hour_and_escalation_pings_cannot() {
    let h = harness_with(T0, config("")).await;
    h.cmd(T0, r#"/action add task:"Budget" owner:cto due:2026-11-25"#)
        .await;
    h.cmd(
        T0,
        r#"/decision record title:"Cut cloud spend" category:budget rationale:"x""#,
    )
    .await;
    h.cmd(
        T0,
        r#"/escalate topic:budget severity:critical summary:"Payroll failed""#,
    )
    .await;
    h.tick(T0).await;
    h.tick("2026-11-25T09:00:00Z").await;
    let (chase, _) = snooze_of(&h, "1 action item needs you today");
    let (approval, _) = snooze_of(&h, "needs your approval");
    let (none, ping) = snooze_of(&h, "ESCALATION #1");
    assert_eq!(none, None, "an escalation ping has no Snooze");
    let press = |id: String, now: &'static str| {
        let h = &h;
        async move {
            h.app
                .press(
                    &support::core::actor("acme", "u-cto"),
                    &id,
                    support::core::at(now),
                )
                .await
        }
    };
    let r = press(
        chase.clone().expect("the chase has Snooze"),
        "2026-11-25T09:10:00Z",
    )
    .await;
    assert!(!r.is_error && r.ephemeral, "{}", r.text);
    assert_eq!(r.text, "Snoozed: I will post this again in 1 hour.");
    let r = press(
        approval.expect("the approval request has Snooze"),
        "2026-11-25T09:10:00Z",
    )
    .await;
    assert_eq!(r.text, "Snoozed: I will post this again in 1 hour.");
    let r = press(format!("snooze:{ping}"), "2026-11-25T09:10:00Z").await;
    assert!(
        r.is_error,
        "an escalation ping cannot be snoozed: {}",
        r.text
    );
    let r = press(chase.unwrap(), "2026-11-25T09:10:00Z").await;
    assert!(r.is_error, "the same snooze twice: {}", r.text);

    h.tick("2026-11-25T10:09:00Z").await;
    assert_eq!(count(&h, "1 action item needs you today"), 1);
    h.tick("2026-11-25T10:10:00Z").await;
    assert_eq!(
        count(&h, "1 action item needs you today"),
        2,
        "again after an hour"
    );
    assert_eq!(count(&h, "\"Cut cloud spend\" needs your approval"), 2);
}

#[tokio::test]
async fn a_long_backlog_is_chased_ten_items_at_a_time_and_escalated_items_make_room() {
    let h = harness_with(T0, config("")).await;
    // One item long overdue, then twelve due on Monday 23rd.
    h.cmd(
        T0,
        r#"/action add task:"Rotate keys" owner:cto due:2026-11-16"#,
    )
    .await;
    for i in 0..12 {
        h.cmd(
            T0,
            &format!(r#"/action add task:"Task {i}" owner:cto due:2026-11-23"#),
        )
        .await;
    }
    // Tuesday 24th: "Rotate keys" is 6 working days overdue, so this chase
    // escalates it and leaves it out; nine of the others fill its list.
    h.tick("2026-11-24T09:00:00Z").await;
    let chase = find(&h, "need you today");
    assert!(
        chase.contains("More than 9 action items need you today"),
        "{chase}"
    );
    assert!(
        !chase.contains("Rotate keys"),
        "escalated, not chased: {chase}"
    );
    assert!(chase.contains("+3 more: /action mine"), "{chase}");
    assert_eq!(count(&h, "ESCALATION #1"), 1);
    // Wednesday: the escalated item no longer takes a place in the window.
    h.tick("2026-11-25T09:00:00Z").await;
    let chases: Vec<String> = h
        .chat
        .texts()
        .into_iter()
        .filter(|t| t.contains("need you today"))
        .collect();
    assert_eq!(chases.len(), 2, "{chases:#?}");
    let chase = &chases[1];
    assert!(
        chase.contains("More than 10 action items need you today"),
        "{chase}"
    );
    assert!(!chase.contains("Rotate keys"), "{chase}");
    assert!(
        chase.contains("#2 Task 0") && chase.contains("#11 Task 9"),
        "{chase}"
    );
    assert!(!chase.contains("#12 Task 10"), "{chase}");
    assert!(chase.contains("+2 more: /action mine"), "{chase}");
}

#[tokio::test]
async fn a_snoozed_chase_comes_back_with_what_is_still_open_and_a_settled_approval_does_not_come_back()
 {
    let h = harness_with(T0, config("")).await;
    h.cmd(T0, r#"/action add task:"Budget" owner:cto due:2026-11-25"#)
        .await;
    h.cmd(
        T0,
        r#"/action add task:"Hiring plan" owner:cto due:2026-11-25"#,
    )
    .await;
    h.cmd(
        T0,
        r#"/decision record title:"Cut cloud spend" category:budget rationale:"x""#,
    )
    .await;
    h.tick(T0).await;
    h.tick("2026-11-25T09:00:00Z").await;
    let (chase, _) = snooze_of(&h, "2 action items need you today");
    let (approval, _) = snooze_of(&h, "needs your approval");
    let press = |id: String, now: &'static str| {
        let h = &h;
        async move {
            h.app
                .press(
                    &support::core::actor("acme", "u-cto"),
                    &id,
                    support::core::at(now),
                )
                .await
        }
    };
    assert!(!press(chase.unwrap(), "2026-11-25T09:10:00Z").await.is_error);
    assert!(
        !press(approval.unwrap(), "2026-11-25T09:10:00Z")
            .await
            .is_error
    );
    // Meanwhile one item is done and the decision is approved.
    h.as_user("u-cto", "2026-11-25T09:30:00Z", "/action done id:1")
        .await;
    h.as_user("u-cfo", "2026-11-25T09:40:00Z", "/decision approve id:1")
        .await;
    h.tick("2026-11-25T10:10:00Z").await;
    let again = find(&h, "1 action item needs you today");
    assert!(again.contains("#2 Hiring plan"), "{again}");
    assert!(
        !again.contains("#1 Budget"),
        "an item done meanwhile is not chased again: {again}"
    );
    assert!(
        again.contains("Snoozed; first sent Wed 25 Nov 2026 09:00 UTC"),
        "{again}"
    );
    assert_eq!(
        count(&h, "needs your approval"),
        1,
        "an approved decision's snoozed request is not posted again: {:#?}",
        h.chat.texts()
    );
    // Snoozed again, and the last item done meanwhile: nothing to post.
    let (chase, _) = snooze_of(&h, "1 action item needs you today");
    assert!(!press(chase.unwrap(), "2026-11-25T10:15:00Z").await.is_error);
    h.as_user("u-cto", "2026-11-25T10:30:00Z", "/action done id:2")
        .await;
    let before = h.chat.texts().len();
    h.tick("2026-11-25T11:15:00Z").await;
    assert_eq!(
        h.chat.texts()[before..],
        [] as [String; 0],
        "a chase with nothing left open is not posted"
    );
}

#[tokio::test]
async fn a_snoozed_verify_chase_says_how_long_ago_as_of_now_and_stops_once_verified() {
    let h = harness_with(T0, config("")).await;
    h.as_user("u-ceo", T0, r#"/action add task:"Budget" owner:cto"#)
        .await;
    h.as_user("u-cto", T0, "/action done id:1").await;
    // The verify chase goes out after `verify_after` (default) has passed.
    let mut at = support::core::at(T0);
    let mut posted = None;
    for _ in 0..(24 * 8) {
        at += chrono::Duration::hours(1);
        h.scheduler.tick(at).await.unwrap();
        if count(&h, "needs verification") > 0 {
            posted = Some(at);
            break;
        }
    }
    let first = posted.expect("a verify chase within eight days");
    let (snooze, _) = snooze_of(&h, "needs verification");
    let later = first + chrono::Duration::minutes(10);
    let r = h
        .app
        .press(
            &support::core::actor("acme", "u-ceo"),
            &snooze.unwrap(),
            later,
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    let back = later + chrono::Duration::hours(1);
    h.scheduler.tick(back).await.unwrap();
    let texts: Vec<String> = h
        .chat
        .texts()
        .into_iter()
        .filter(|t| t.contains("needs verification"))
        .collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(texts[1].contains("Snoozed; first sent"), "{}", texts[1]);
    let done_for = quorum::domain::notice::ago(back - support::core::at(T0));
    assert!(
        texts[1].contains(&done_for),
        "{} should say {done_for}",
        texts[1]
    );
    // Snoozed again and verified meanwhile: not posted again.
    let (snooze, _) = snooze_of_last(&h, "needs verification");
    let r = h
        .app
        .press(
            &support::core::actor("acme", "u-ceo"),
            &snooze.unwrap(),
            back + chrono::Duration::minutes(5),
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    let v = h
        .app
        .handle_line(
            &support::core::actor("acme", "u-ceo"),
            "/action verify id:1",
            back + chrono::Duration::minutes(20),
        )
        .await;
    assert!(!v.is_error, "{}", v.text);
    h.scheduler
        .tick(back + chrono::Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(count(&h, "needs verification"), 2, "{:#?}", h.chat.texts());
}

/// Like [`snooze_of`], for the last post whose text contains `needle`.
fn snooze_of_last(h: &Harness, needle: &str) -> (Option<String>, i64) {
    let texts = h.chat.texts();
    let posts = h.chat.posts.lock().unwrap();
    let i = texts
        .iter()
        .rposition(|t| t.contains(needle))
        .unwrap_or_else(|| panic!("no post contains {needle:?}: {texts:#?}"));
    let post = &posts[i];
    let id = post.key.trim_start_matches("quorum-").parse().unwrap();
    let button = post
        .buttons
        .iter()
        .find(|b| b.label == "Snooze 1h")
        .map(|b| b.id.clone());
    (button, id)
}

#[tokio::test]
async fn chases_and_approval_requests_to_an_executive_who_chose_dm_go_by_direct_message() {
    let text = ORG.replace(
        "user = \"u-cto\"\nchannel = \"cto\"",
        "user = \"900000000000000021\"\nslack_user = \"U0000CTO01\"\nchannel = \"cto\"\nnotify = \"dm\"",
    );
    let config = Config::from_toml(
        &format!("{text}\n[decisions.categories]\ntech = \"cto\"\n"),
        "test.toml",
    )
    .unwrap();
    let h = harness_with(T0, config).await;
    h.cmd(T0, r#"/action add task:"Budget" owner:cto due:2026-11-25"#)
        .await;
    h.cmd(
        T0,
        r#"/action add task:"Forecast" owner:cfo due:2026-11-25"#,
    )
    .await;
    let r = h
        .cmd(
            T0,
            r#"/decision record title:"Adopt Rust" category:tech rationale:"x""#,
        )
        .await;
    assert!(r.contains("(pinged in a direct message to cto)"), "{r}");
    h.cmd(
        T0,
        r#"/risk add title:"Key supplier insolvent" severity:high owner:cto mitigation:"Second source" review:weekly"#,
    )
    .await;
    h.tick(T0).await;
    h.tick("2026-11-25T09:00:00Z").await;
    h.tick("2026-11-26T10:00:00Z").await;
    h.tick("2026-12-01T10:00:00Z").await;
    let posts = h.chat.posts.lock().unwrap().clone();
    let to = |needle: &str| -> Vec<String> {
        h.chat
            .texts()
            .iter()
            .zip(&posts)
            .filter(|(t, _)| t.contains(needle))
            .map(|(_, p)| p.channel.clone())
            .collect()
    };
    let dm = "dm:cto:U0000CTO01,900000000000000021:cto";
    assert_eq!(to("Adopt Rust\" needs your approval"), [dm]);
    assert_eq!(to("Adopt Rust\" still needs your approval"), [dm]);
    assert_eq!(to("Time to review risk 1"), [dm]);
    // Chased on the due day and on later days, each time in the DM.
    let cto = to("cto (Chief Technology): 1 action item needs you today");
    assert!(cto.len() >= 2 && cto.iter().all(|c| c == dm), "{cto:?}");
    let cfo = to("cfo (Chief Financial): 1 action item needs you today");
    assert!(
        cfo.len() >= 2 && cfo.iter().all(|c| c == "cfo"),
        "the cfo kept the channel: {cfo:?}"
    );
}

#[tokio::test]
async fn a_chase_snoozed_late_in_the_evening_waits_for_working_time_and_the_new_days_chase_says_it_once()
 {
    // Snoozed at 23:40 on a Wednesday: an hour later is past midnight, quiet
    // time for the cto (no working hours: weekdays from 09:00), so nothing
    // comes at night and the reply says when it will. By then it is a new
    // day whose own chase names the item, now overdue: one chase, not two.
    let h = harness_with(T0, config("")).await;
    h.cmd(T0, r#"/action add task:"Budget" owner:cto due:2026-11-25"#)
        .await;
    h.tick("2026-11-25T23:30:00Z").await;
    let first = find(&h, "1 action item needs you today");
    assert!(first.contains("#1 Budget (medium, due today)"), "{first}");
    let (chase, _) = snooze_of(&h, "1 action item needs you today");
    let r = h
        .app
        .press(
            &support::core::actor("acme", "u-cto"),
            &chase.expect("the chase has Snooze"),
            support::core::at("2026-11-25T23:40:00Z"),
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(
        r.text,
        "Snoozed: I will post this again on Thu 26 Nov 2026 09:00 UTC (your next working time)."
    );
    h.tick("2026-11-26T00:41:00Z").await;
    assert_eq!(count(&h, "action item needs you"), 1, "not at night");
    h.tick("2026-11-26T09:00:00Z").await;
    let texts = h.chat.texts();
    assert_eq!(count(&h, "action item needs you"), 2, "{texts:#?}");
    let again = texts.last().unwrap();
    assert!(
        again.contains("#1 Budget (medium, overdue since 2026-11-25)"),
        "{again}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("Snoozed; first sent")),
        "{texts:#?}"
    );
}
