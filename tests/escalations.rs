//! Escalations with a controlled clock: routing, climbing every level, acks
//! at each level, acks racing deadlines, working hours, a restart mid-way,
//! follow-ups, permissions and bad input.

mod support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use quorum::config::Config;
use support::core::{Harness, at, harness_with, reopen};

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
timezone = "Europe/Madrid"

[org.coo]
name = "Chief Operating"
user = "u-coo"
channel = "coo"

[org.cpo]
name = "Chief Product"
user = "u-cpo"
channel = "cpo"

[org.board]
name = "Board"
user = "u-board"
channel = "board"
"#;

fn config(extra: &str) -> Config {
    Config::from_toml(&format!("{ORG}\n{extra}"), "test.toml").unwrap()
}

const T0: &str = "2026-11-24T10:00:00Z"; // Tuesday 11:00 in Madrid

async fn raise(h: &Harness, user: &str, line: &str) -> String {
    let r = h
        .app
        .handle_line(&support::core::actor("acme", user), line, at(T0))
        .await;
    assert!(!r.is_error, "{line}: {}", r.text);
    r.text
}

fn posts_in(h: &Harness, channel: &str) -> Vec<String> {
    h.chat
        .texts()
        .into_iter()
        .filter(|t| t.starts_with(&format!("[#{channel}]")))
        .collect()
}

#[tokio::test]
async fn each_topic_routes_to_its_executive() {
    let h = harness_with(T0, config("")).await;
    let table = [
        ("budget", "cfo"),
        ("investment", "cfo"),
        ("cost", "cfo"),
        ("operations", "coo"),
        ("capacity", "coo"),
        ("vendors", "coo"),
        ("crisis", "coo"),
        ("roadmap", "cpo"),
        ("build-vs-buy", "cpo"),
        ("platform", "cpo"),
        ("architecture", "cto"),
        ("stack", "cto"),
        ("security", "cto"),
        ("infrastructure", "cto"),
        ("strategy", "ceo"),
        ("market", "ceo"),
        ("risk", "ceo"),
    ];
    for (topic, role) in table {
        let r = raise(
            &h,
            "ana",
            &format!(r#"/escalate topic:{topic} severity:critical summary:"{topic} problem""#),
        )
        .await;
        assert!(
            r.contains(&format!(
                "went to {role} in #{role}: {topic} is the {role}'s area"
            )),
            "{topic}: {r}"
        );
    }
    let r = raise(
        &h,
        "ana",
        r#"/escalate topic:weather severity:high summary:"Storm""#,
    )
    .await;
    assert!(
        r.contains("went to cto in #cto: `weather` has no route"),
        "unknown topics go to CTO review: {r}"
    );
    h.tick(T0).await;
    let cfo = posts_in(&h, "cfo");
    assert_eq!(cfo.len(), 3);
    assert!(cfo[0].starts_with("[#cfo] @u-cfo CFO (Chief Financial): ESCALATION #1 [CRITICAL] budget: budget problem\n  Raised by: ana in #exec-team\n"), "{}", cfo[0]);
    // Channels are posted to concurrently: find the CFO's first post.
    let posts = h.chat.posts.lock().unwrap().clone();
    let first_to_cfo = posts.iter().find(|p| p.channel == "cfo").unwrap();
    assert_eq!(
        first_to_cfo.mention,
        ["u-cfo"],
        "only the routed executive is pinged"
    );
}

#[tokio::test]
async fn an_unacknowledged_escalation_climbs_every_level_then_repeats_and_stops() {
    let h = harness_with(T0, config("[escalation]\nmax_repeats = 2\n")).await;
    let r = raise(&h, "ana", r#"/escalate topic:budget severity:critical summary:"Card processor down" level:department"#).await;
    assert!(r.contains("went to department in #exec-team"), "{r}");
    let mut t = at(T0);
    h.scheduler.tick(t).await.unwrap();
    let expected = ["cto", "cfo", "exec-team", "board"];
    for level in expected {
        t += Duration::minutes(15);
        let rep = h.scheduler.tick(t).await.unwrap();
        assert_eq!(rep.escalations, 1, "climbs to {level}");
        let last = posts_in(&h, level).pop().unwrap_or_default();
        assert!(
            last.contains("ESCALATION #1 [CRITICAL]") && last.contains("acknowledged within 15m"),
            "{level}: {last}"
        );
    }
    // The board has the last level: two more pings, then Quorum stops.
    for _ in 0..2 {
        t += Duration::minutes(15);
        h.scheduler.tick(t).await.unwrap();
    }
    t += Duration::minutes(15);
    h.scheduler.tick(t).await.unwrap();
    let board = posts_in(&h, "board");
    assert_eq!(board.len(), 3, "{board:#?}");
    assert!(board[2].contains("Reminder 2 of 2"), "{}", board[2]);
    let notes = posts_in(&h, "exec-team");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("moved up from department to cto\n")
                && n.contains("\n  Nobody at department acknowledged within 15m.")),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("has stopped pinging")),
        "{notes:#?}"
    );
    let before = h.chat.texts().len();
    h.scheduler.tick(t + Duration::hours(5)).await.unwrap();
    assert_eq!(h.chat.texts().len(), before, "nothing more after giving up");
    let show = h
        .app
        .handle_line(
            &support::core::actor("acme", "ana"),
            "/escalation show id:1",
            t,
        )
        .await
        .text;
    for kind in ["raised", "posted", "climbed", "repeated", "gave-up"] {
        assert!(
            show.contains(&format!(" {kind}: ")),
            "timeline has {kind}: {show}"
        );
    }
}

#[tokio::test]
async fn an_ack_at_any_level_stops_the_climb() {
    let acker = ["u-cto", "u-cto", "u-cfo", "u-ceo", "u-board"];
    for (level, who) in acker.iter().enumerate() {
        let h = harness_with(T0, config("")).await;
        raise(
            &h,
            "ana",
            r#"/escalate topic:budget severity:critical summary:"x" level:department"#,
        )
        .await;
        let mut t = at(T0);
        h.scheduler.tick(t).await.unwrap();
        for _ in 0..level {
            t += Duration::minutes(15);
            h.scheduler.tick(t).await.unwrap();
        }
        let user = who.trim_start_matches("u-");
        let r = h
            .app
            .handle_line(
                &support::core::actor("acme", user),
                "/escalation ack id:1",
                t,
            )
            .await;
        assert!(!r.is_error, "level {level} by {user}: {}", r.text);
        let before = h
            .chat
            .texts()
            .iter()
            .filter(|p| p.contains("ESCALATION"))
            .count();
        for step in 1..10 {
            h.scheduler
                .tick(t + Duration::minutes(15 * step))
                .await
                .unwrap();
        }
        let after = h
            .chat
            .texts()
            .iter()
            .filter(|p| p.contains("ESCALATION"))
            .count();
        assert_eq!(before, after, "no ping after the ack at level {level}");
        assert!(
            h.chat
                .texts()
                .iter()
                .any(|p| p.contains(&format!("acknowledged by {user}")))
        );
    }
}

#[tokio::test]
async fn only_the_current_level_or_above_may_ack_unless_widened() {
    let h = harness_with(T0, config("")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:high summary:"x""#,
    )
    .await;
    for user in ["ana", "u-nobody"] {
        let r = h
            .app
            .handle_line(
                &support::core::actor("acme", user),
                "/escalation ack id:1",
                at(T0),
            )
            .await;
        assert!(r.is_error, "{user}");
        assert!(
            r.text.starts_with(
                "only cfo, exec-team, board may acknowledge escalation 1 (it is at cfo)"
            ),
            "{}",
            r.text
        );
    }
    let r = h
        .app
        .handle_line(
            &support::core::actor("acme", "cto"),
            "/escalation ack id:1",
            at(T0),
        )
        .await;
    assert!(
        !r.is_error,
        "the executive team, the cto among them, is above the cfo: {}",
        r.text
    );

    let h = harness_with(T0, config("[escalation]\nack_by_anyone = true\n")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:high summary:"x""#,
    )
    .await;
    let r = h
        .app
        .handle_line(
            &support::core::actor("acme", "ana"),
            "/escalation ack id:1",
            at(T0),
        )
        .await;
    assert!(!r.is_error, "{}", r.text);
}

/// A chat that takes a while to post, so acks land in the middle of sends.
struct SlowChat {
    inner: support::core::Recorder,
    log: std::sync::Mutex<Vec<(std::time::Instant, String)>>,
}

impl quorum::chat::Chat for SlowChat {
    async fn post(&self, m: &quorum::chat::Outgoing) -> Result<(), quorum::chat::SendError> {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        self.inner.post(m).await?;
        self.log
            .lock()
            .unwrap()
            .push((std::time::Instant::now(), quorum::chat::console::render(m)));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_racing_deadlines_never_let_a_ping_out_after_the_ack() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let config = Config {
        database_url: url.clone(),
        ..config("")
    };
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let chat = Arc::new(SlowChat {
        inner: Default::default(),
        log: Default::default(),
    });
    let scheduler = quorum::scheduler::Scheduler::new(store.clone(), &config, chat.clone(), at(T0));
    let app = quorum::app::App::new(Arc::new(config), store);
    let mut climbed_first = 0;
    for i in 1..=40i64 {
        let start = at(T0) + Duration::hours(i);
        let r = app
            .handle_line(
                &support::core::actor("acme", "ana"),
                r#"/escalate topic:budget severity:critical summary:"race""#,
                start,
            )
            .await;
        assert!(!r.is_error, "{}", r.text);
        scheduler.tick(start).await.unwrap();
        let deadline = start + Duration::minutes(15);
        let ceo = support::core::actor("acme", "ceo");
        // Stagger the ack a little differently each round.
        let ack = async {
            tokio::time::sleep(StdDuration::from_micros((i as u64 % 8) * 700)).await;
            let r = app
                .handle_line(&ceo, &format!("/escalation ack id:{i}"), deadline)
                .await;
            (std::time::Instant::now(), r)
        };
        let (_, (acked_at, reply)) = tokio::join!(scheduler.tick(deadline), ack);
        assert!(!reply.is_error, "round {i}: {}", reply.text);
        let pings_after: Vec<String> = chat
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|(when, text)| *when > acked_at && text.contains(&format!("ESCALATION #{i} ")))
            .map(|(_, t)| t.clone())
            .collect();
        assert!(
            pings_after.is_empty(),
            "round {i}: posted after the ack committed: {pings_after:?}"
        );
        for later in 1..5 {
            scheduler
                .tick(deadline + Duration::minutes(15 * later))
                .await
                .unwrap();
        }
        let level2 = chat
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, t)| {
                t.contains(&format!("ESCALATION #{i} ")) && t.contains("acknowledged within")
            })
            .count();
        assert!(
            level2 <= 1,
            "round {i}: at most the one climb that won the race"
        );
        climbed_first += level2;
    }
    eprintln!("the deadline won {climbed_first} of 40 races");
}

#[tokio::test]
async fn non_critical_escalations_wait_for_working_hours_and_critical_ones_do_not() {
    let text = ORG.replace(
        "timezone = \"Europe/Madrid\"",
        "timezone = \"Europe/Madrid\"\nworking_hours = \"mon-fri 09:00-18:00\"",
    );
    let config = Config::from_toml(&text, "t.toml").unwrap();
    let evening = "2026-11-27T19:00:00Z"; // Friday 20:00 in Madrid
    let h = harness_with(evening, config).await;
    let r = h
        .app
        .handle_line(
            &support::core::actor("acme", "ana"),
            r#"/escalate topic:budget severity:high summary:"Invoice dispute""#,
            at(evening),
        )
        .await;
    assert!(
        r.text.contains(
            "The cfo is outside working hours, so it will be posted at 2026-11-30 08:00 UTC."
        ),
        "{}",
        r.text
    );
    let r = h
        .app
        .handle_line(
            &support::core::actor("acme", "ana"),
            r#"/escalate topic:budget severity:critical summary:"Payroll failed""#,
            at(evening),
        )
        .await;
    assert!(
        r.text.contains("Acknowledge by"),
        "critical never waits: {}",
        r.text
    );
    h.scheduler.tick(at(evening)).await.unwrap();
    let cfo = posts_in(&h, "cfo");
    assert_eq!(cfo.len(), 1);
    assert!(cfo[0].contains("#2 [CRITICAL]"));
    h.scheduler.tick(at("2026-11-30T07:59:00Z")).await.unwrap();
    assert_eq!(
        posts_in(&h, "cfo").len(),
        1,
        "not before Monday 09:00 Madrid"
    );
    h.scheduler.tick(at("2026-11-30T08:00:00Z")).await.unwrap();
    let cfo = posts_in(&h, "cfo");
    assert_eq!(cfo.len(), 2);
    assert!(
        cfo[1].contains("#1 [HIGH]") && cfo[1].contains("Posted now that working hours have begun"),
        "{}",
        cfo[1]
    );
}

#[tokio::test]
async fn a_restart_mid_way_keeps_deadlines_and_doubles_nothing() {
    let h = harness_with(T0, config("")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:high summary:"Restart test" level:cto"#,
    )
    .await;
    h.tick(T0).await;
    h.tick("2026-11-24T11:00:00Z").await; // climbs to cfo
    let before = h.chat.texts();
    let Harness { dir, url, .. } = h;
    let h = reopen(dir, url, "2026-11-24T11:30:00Z", config("")).await;
    assert_eq!(
        h.tick("2026-11-24T11:30:00Z").await.sent,
        0,
        "nothing is re-sent after a restart"
    );
    h.tick("2026-11-24T12:00:00Z").await; // climbs to the executive team
    let after = h.chat.texts();
    assert_eq!(
        after.iter().filter(|p| p.contains("ESCALATION #1")).count(),
        1,
        "{after:#?}"
    );
    assert!(
        after.iter().any(|p| p.starts_with(
            "[#exec-team] @u-ceo @u-cfo @u-coo @u-cpo @u-cto Executive team: ESCALATION #1 [HIGH]"
        )),
        "{after:#?}"
    );
    assert!(
        before
            .iter()
            .any(|p| p.starts_with("[#cfo] @u-cfo CFO (Chief Financial): ESCALATION #1")),
        "{before:#?}"
    );
}

#[tokio::test]
async fn an_acknowledged_escalation_follows_up_until_resolved() {
    let h = harness_with(T0, config("[escalation]\nfollow_up = \"2h\"\n")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:security severity:medium summary:"Leaked key""#,
    )
    .await;
    h.tick(T0).await;
    h.as_user("cto", T0, "/escalation ack id:1").await;
    h.tick("2026-11-24T11:59:00Z").await;
    assert!(
        !h.chat
            .texts()
            .iter()
            .any(|p| p.contains("still unresolved"))
    );
    h.tick("2026-11-24T12:00:00Z").await;
    let f = posts_in(&h, "cto");
    assert!(
        f.last().unwrap().contains(
            "cto: escalation #1 you acknowledged is still unresolved\n  Severity: medium\n  Topic: security: Leaked key"
        ),
        "{f:#?}"
    );
    h.as_user(
        "cto",
        "2026-11-24T12:30:00Z",
        r#"/escalation resolve id:1 note:"Key rotated""#,
    )
    .await;
    let n = h.chat.texts().len();
    h.tick("2026-11-24T16:00:00Z").await;
    let texts = h.chat.texts();
    assert_eq!(texts.len(), n + 1, "only the resolution note: {texts:#?}");
    assert!(texts[n].contains("was resolved by cto\n  Resolution: Key rotated"));
}

#[tokio::test]
async fn raise_reassign_list_and_show() {
    let h = harness_with(T0, config("")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:high summary:"Vendor lock-in""#,
    )
    .await;
    h.tick(T0).await;
    let r = h
        .as_user("cfo", T0, r#"/escalation reassign id:1 to:coo"#)
        .await;
    assert_eq!(r, "Escalation 1 now goes to the coo (open).");
    h.tick(T0).await;
    assert!(
        posts_in(&h, "coo")[0].contains("Reassigned from cfo by cfo."),
        "{:#?}",
        posts_in(&h, "coo")
    );
    let r = h
        .as_user(
            "coo",
            T0,
            r#"/escalation raise id:1 reason:"Needs the whole team""#,
        )
        .await;
    assert!(r.starts_with("Escalation 1 moved up"), "{r}");
    h.tick(T0).await;
    assert!(
        posts_in(&h, "exec-team")
            .iter()
            .any(|p| p.contains("Moved up by coo: Needs the whole team."))
    );
    let list = h
        .as_user("ana", T0, "/escalation list open:true mine:true")
        .await;
    assert!(list.starts_with("1 escalation:"), "{list}");
    let show = h.as_user("ana", T0, "/escalation show id:1").await;
    assert!(
        show.contains("Path: department -> cto -> coo -> exec-team -> board"),
        "{show}"
    );
    assert!(
        show.contains("cfo reassigned: from cfo to coo") && show.contains("coo climbed"),
        "{show}"
    );
}

#[tokio::test]
async fn bad_topics_severities_and_ids_are_rejected_and_change_nothing() {
    let h = harness_with(T0, config("")).await;
    for (line, want) in [
        (
            r#"/escalate topic:budget severity:urgent summary:"x""#,
            "severity: `urgent` is not a severity; use critical, high, medium or low",
        ),
        (
            r#"/escalate topic:"two words!" severity:high summary:"x""#,
            "topic: `two-words!` is not a topic",
        ),
        (
            r#"/escalate topic:budget severity:high"#,
            "/escalate needs summary:...",
        ),
        (
            r#"/escalate topic:budget severity:high summary:"x" level:ceo"#,
            "level: `ceo` is not on this escalation's path (department, cto, cfo, exec-team, board)",
        ),
        ("/escalation ack id:7", "there is no escalation 7 here"),
        ("/escalation ack id:seven", "id: `seven` is not an id"),
        (
            "/escalation resolve id:1",
            "/escalation resolve needs note:...",
        ),
        (
            "/escalation list open:maybe",
            "open: `maybe` is not true or false",
        ),
    ] {
        let e = h.fails("ana", T0, line).await;
        assert!(e.starts_with(want), "{line}\n got: {e}\nwant: {want}");
    }
    assert_eq!(
        h.as_user("ana", T0, "/escalation list").await,
        "No escalations match."
    );
    assert_eq!(h.tick(T0).await.sent, 0);
}

#[tokio::test]
async fn the_ceo_may_act_for_the_board_and_is_pinged_there() {
    // As in deploy/quorum.example.toml: a board channel, nobody's user on it.
    let org = ORG.replace("user = \"u-board\"\n", "");
    let config = Config::from_toml(&org, "test.toml").unwrap();
    let h = harness_with(T0, config).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:critical summary:"Bank run" level:board"#,
    )
    .await;
    h.tick(T0).await;
    let posts = h.chat.posts.lock().unwrap().clone();
    let to_board = posts.iter().find(|p| p.channel == "board").unwrap();
    assert_eq!(to_board.mention, ["u-ceo"], "the one who can act is pinged");
    let e = h.fails("u-cfo", T0, "/escalation ack id:1").await;
    assert_eq!(
        e,
        "only board, ceo may acknowledge escalation 1 (it is at board); you are u-cfo"
    );
    let r = h.as_user("u-ceo", T0, "/escalation ack id:1").await;
    assert!(r.starts_with("Acknowledged escalation 1"), "{r}");
    h.as_user(
        "u-ceo",
        T0,
        r#"/escalation resolve id:1 note:"Board briefed""#,
    )
    .await;
}

#[tokio::test]
async fn a_path_that_config_leaves_empty_for_a_severity_never_panics() {
    use quorum::domain::escalation::Level;
    let h = harness_with(T0, config("")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:medium summary:"Invoice late" level:cfo"#,
    )
    .await;
    h.tick(T0).await;
    // Restarted with a path only the board is on (check-config refuses it;
    // a config built in code, or an old file, may still have it).
    let mut board_only = config("");
    board_only.escalation.path = vec![Level::Role("board".into())];
    let Harness { dir, url, .. } = h;
    let h = reopen(dir, url, T0, board_only).await;
    let e = h
        .fails(
            "ana",
            T0,
            r#"/escalate topic:budget severity:low summary:"Another""#,
        )
        .await;
    assert!(
        e.starts_with("escalation.path has no level for a low escalation"),
        "{e}"
    );
    for later in ["2026-11-24T15:00:00Z", "2026-11-25T15:00:00Z"] {
        h.tick(later).await;
    }
    let e = h.fails("u-cfo", T0, "/escalation ack id:1").await;
    assert!(
        e.starts_with("escalation.path has no level for a medium escalation"),
        "{e}"
    );
    let e = h
        .fails("ana", T0, r#"/escalation raise id:1 reason:"x""#)
        .await;
    assert!(e.starts_with("escalation.path has no level"), "{e}");
    let show = h.cmd(T0, "/escalation show id:1").await;
    assert!(show.contains("Escalation") || show.contains("#1"), "{show}");
    h.cmd(T0, "/escalation list mine:true").await;
}

#[tokio::test]
async fn a_climb_posts_once_and_the_list_shows_the_level_it_is_at_now() {
    let h = harness_with(T0, config("")).await;
    raise(
        &h,
        "ana",
        r#"/escalate topic:budget severity:critical summary:"Card processor down" level:cfo"#,
    )
    .await;
    h.tick(T0).await;
    let before = posts_in(&h, "exec-team").len();
    // 15 minutes unacknowledged: from the cfo to the executive team, whose
    // channel is also where it was raised.
    h.scheduler
        .tick(at(T0) + Duration::minutes(15))
        .await
        .unwrap();
    let new: Vec<String> = posts_in(&h, "exec-team")[before..].to_vec();
    assert_eq!(new.len(), 1, "one post for one climb: {new:#?}");
    assert!(
        new[0].contains("ESCALATION #1") && new[0].contains("Nobody at cfo acknowledged"),
        "{new:#?}"
    );
    let list = h
        .as_user("ana", "2026-11-24T10:16:00Z", "/escalation list")
        .await;
    assert!(
        list.contains("(now at exec-team, level 4 of 5; routed to cfo;"),
        "{list}"
    );
}
