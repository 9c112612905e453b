//! The calendar feed end to end: series made with chat commands, links from
//! `/meeting calendar`, the feed fetched over HTTP from the real router on
//! loopback. The structure and token rules are checked here in Rust; the
//! occurrences are checked against Python's `icalendar` and
//! `recurring-ical-events` (tests/oracle/ical_expand.py) and
//! `quorum schedule preview`, for every cadence of the example config and
//! the DST edges of Madrid, New York and Sydney.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use quorum::config::Config;
use quorum::domain::holiday::Holidays;
use support::core::{Harness, harness_with};

const STARTED: &str = "2026-11-28T08:00:00Z";

/// Serve the real router for `h` on a loopback port; returns its base URL.
async fn serve(h: &Harness) -> String {
    let state = quorum::http::HttpState {
        app: h.app.clone(),
        discord_key: None,
        slack_secret: None,
        slack_web: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, quorum::http::router(state))
            .await
            .unwrap()
    });
    format!("http://{addr}")
}

async fn get(url: &str) -> (u16, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

/// The links in a `/meeting calendar` reply, by what they are for.
fn links(reply: &str) -> BTreeMap<String, String> {
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter_map(|l| {
            let (what, url) = l.rsplit_once(": ")?;
            Some((what.to_string(), url.trim().to_string()))
        })
        .collect()
}

/// The token of an `https://.../calendar/{token}.ics` link.
fn token_of(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string()
}

fn org_config() -> Config {
    let text = r#"
[http]
public_url = "https://quorum.example.com"

[calendar]
holidays = ["2026-12-25", "2027-01-01"]

[org.ceo]
name = "Ana García"
user = "ana"

[org.cfo]
name = "Bea Ruiz"
user = "bea"
"#;
    Config::from_toml(text, "test.toml").unwrap()
}

/// The VEVENT blocks of a feed, unfolded.
fn events(feed: &str) -> Vec<String> {
    let unfolded = feed.replace("\r\n ", "");
    unfolded
        .split("BEGIN:VEVENT\r\n")
        .skip(1)
        .map(|e| e.split("END:VEVENT").next().unwrap().to_string())
        .collect()
}

fn prop<'a>(event: &'a str, name: &str) -> Vec<&'a str> {
    event
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(';'))
        })
        .collect()
}

#[tokio::test]
async fn the_feed_holds_rules_skips_moves_and_warnings_and_its_tokens_are_guarded() {
    let h = harness_with(STARTED, org_config()).await;
    let base = serve(&h).await;
    let now = "2026-11-28T09:00:00Z";
    // Fridays at 10:00 in Madrid: Friday 25 December is a holiday.
    h.cmd(now, r#"/meeting add title:"Exec team" when:"weekly on friday at 10:00" tz:Europe/Madrid attendees:ceo,cfo"#).await;
    // The 27th at 17:00 in New York, moved off weekends: Sunday 27 December
    // 2026 becomes Monday 28 December.
    h.cmd(now, r#"/meeting add title:"Board prep" when:"monthly on day 27 at 17:00" tz:America/New_York attendees:ceo shift:next-weekday"#).await;
    // Second Friday of the month, which no RRULE here expresses: single events.
    h.cmd(
        now,
        r#"/meeting add title:"Pipeline" when:"cron:0 15 * * 5#2" tz:Europe/Madrid attendees:bea"#,
    )
    .await;
    let skipped = h.cmd(now, "/meeting skip id:1").await;
    assert!(skipped.contains("Fri 4 Dec 2026"), "{skipped}");

    // Only executives get links; a token is shown once.
    let e = h.fails("zed", now, "/meeting calendar").await;
    assert!(e.contains("for the executives"), "{e}");
    let reply = h.cmd(now, "/meeting calendar").await;
    let l = links(&reply);
    let all = &l["every series"];
    assert!(
        all.starts_with("https://quorum.example.com/calendar/"),
        "{reply}"
    );
    let token = token_of(all);
    assert_eq!(token.len(), 48, "{token}");
    assert_eq!(
        l["ceo (Ana García)"],
        format!("https://quorum.example.com/calendar/{token}/ceo.ics")
    );
    let again = h.cmd(now, "/meeting calendar").await;
    assert!(again.contains("shown only once"), "{again}");
    assert!(!again.contains(&token), "{again}");

    let (status, kind, feed) = get(&format!("{base}/calendar/{token}.ics")).await;
    assert_eq!(status, 200, "{feed}");
    assert_eq!(kind, "text/calendar; charset=utf-8");
    assert!(feed.starts_with("BEGIN:VCALENDAR\r\n"), "{feed}");
    for zone in ["Europe/Madrid", "America/New_York"] {
        assert!(
            feed.contains(&format!("BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n")),
            "{zone}: {feed}"
        );
    }
    let all_events = events(&feed);
    let exec: Vec<&String> = all_events
        .iter()
        .filter(|e| e.contains("SUMMARY:Exec team"))
        .collect();
    let main = exec
        .iter()
        .find(|e| prop(e, "RECURRENCE-ID").is_empty())
        .unwrap();
    assert_eq!(
        prop(main, "DTSTART"),
        ["DTSTART;TZID=Europe/Madrid:20261204T100000"]
    );
    assert_eq!(
        prop(main, "RRULE"),
        ["RRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0;BYSECOND=0;WKST=MO"]
    );
    assert_eq!(prop(main, "DURATION"), ["DURATION:PT60M"]);
    assert_eq!(
        prop(main, "EXDATE"),
        ["EXDATE;TZID=Europe/Madrid:20261204T100000"]
    );
    // Created, then skipped once: revision 1.
    assert_eq!(prop(main, "SEQUENCE"), ["SEQUENCE:1"]);
    let uid = prop(main, "UID")[0].to_string();
    assert_eq!(prop(main, "ATTENDEE").len(), 2, "{main}");
    assert!(main.contains("CN=ceo (Ana García)"), "{main}");
    // The holiday is an override at the same time, saying why.
    let christmas = exec
        .iter()
        .find(|e| prop(e, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=Europe/Madrid:20261225T100000"])
        .unwrap();
    assert_eq!(prop(christmas, "UID"), [uid.as_str()]);
    assert_eq!(
        prop(christmas, "DTSTART"),
        ["DTSTART;TZID=Europe/Madrid:20261225T100000"]
    );
    assert!(
        christmas.contains("falls on a holiday (2026-12-25)"),
        "{christmas}"
    );

    // The Sunday is moved to Monday, the original date kept in RECURRENCE-ID.
    let board: Vec<&String> = all_events
        .iter()
        .filter(|e| e.contains("SUMMARY:Board prep"))
        .collect();
    let moved = board
        .iter()
        .find(|e| {
            prop(e, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=America/New_York:20261227T170000"]
        })
        .unwrap();
    assert_eq!(
        prop(moved, "DTSTART"),
        ["DTSTART;TZID=America/New_York:20261228T170000"]
    );
    assert!(moved.contains("Moved from Sun 27 Dec 2026"), "{moved}");

    // The cron series: single events on second Fridays for 90 days.
    let pipeline: Vec<&String> = all_events
        .iter()
        .filter(|e| e.contains("SUMMARY:Pipeline"))
        .collect();
    assert!((2..=4).contains(&pipeline.len()), "{pipeline:?}");
    let uids: BTreeSet<&str> = pipeline.iter().map(|e| prop(e, "UID")[0]).collect();
    assert_eq!(uids.len(), pipeline.len(), "one UID per event");
    for e in &pipeline {
        assert!(prop(e, "RRULE").is_empty(), "{e}");
        let start = prop(e, "DTSTART")[0];
        let date =
            NaiveDate::parse_from_str(&start[start.len() - 15..start.len() - 7], "%Y%m%d").unwrap();
        assert_eq!(
            chrono::Datelike::weekday(&date),
            chrono::Weekday::Fri,
            "{start}"
        );
        assert!((8..=14).contains(&chrono::Datelike::day(&date)), "{start}");
        assert!(start.ends_with("T150000"), "{start}");
    }

    // Refetching gives the same UIDs: clients update instead of duplicating.
    let (_, _, again_feed) = get(&format!("{base}/calendar/{token}.ics")).await;
    assert!(again_feed.contains(&uid), "{again_feed}");

    // An edit bumps SEQUENCE.
    h.cmd(now, "/meeting edit id:1 title:\"Exec team\" remind:1d")
        .await;
    let (_, _, edited) = get(&format!("{base}/calendar/{token}.ics")).await;
    let main = events(&edited)
        .into_iter()
        .find(|e| e.contains("SUMMARY:Exec team") && prop(e, "RECURRENCE-ID").is_empty())
        .unwrap();
    assert_eq!(prop(&main, "SEQUENCE"), ["SEQUENCE:2"]);

    // /meeting move: the moved occurrence is an override of its slot (no
    // EXDATE), also when the series' shift had already moved it.
    let moved = h
        .cmd(now, "/meeting move id:1 date:2026-12-10 time:16:00")
        .await;
    assert!(moved.contains("Thu 10 Dec 2026 16:00"), "{moved}");
    let moved = h
        .cmd(now, "/meeting move id:2 date:2026-12-29 time:10:00")
        .await;
    assert!(moved.contains("Tue 29 Dec 2026 10:00"), "{moved}");
    let (_, _, after_move) = get(&format!("{base}/calendar/{token}.ics")).await;
    let after_move = events(&after_move);
    let exec_moved = after_move
        .iter()
        .find(|e| {
            e.contains("SUMMARY:Exec team")
                && prop(e, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=Europe/Madrid:20261211T100000"]
        })
        .expect("the moved Friday is an override");
    assert_eq!(
        prop(exec_moved, "DTSTART"),
        ["DTSTART;TZID=Europe/Madrid:20261210T160000"]
    );
    assert!(
        exec_moved.contains("Moved from Fri 11 Dec 2026 10:00 to Thu 10 Dec 2026 16:00"),
        "{exec_moved}"
    );
    assert_eq!(prop(exec_moved, "UID"), [uid.as_str()]);
    let exec_main = after_move
        .iter()
        .find(|e| e.contains("SUMMARY:Exec team") && prop(e, "RECURRENCE-ID").is_empty())
        .unwrap();
    assert_eq!(
        prop(exec_main, "EXDATE"),
        ["EXDATE;TZID=Europe/Madrid:20261204T100000"],
        "only the skip is an EXDATE"
    );
    let board_moved: Vec<&String> = after_move
        .iter()
        .filter(|e| {
            e.contains("SUMMARY:Board prep")
                && prop(e, "RECURRENCE-ID")
                    == ["RECURRENCE-ID;TZID=America/New_York:20261227T170000"]
        })
        .collect();
    assert_eq!(board_moved.len(), 1, "{board_moved:?}");
    assert_eq!(
        prop(board_moved[0], "DTSTART"),
        ["DTSTART;TZID=America/New_York:20261229T100000"]
    );

    // A role's feed holds only the series that executive attends.
    let (status, _, cfo) = get(&format!("{base}/calendar/{token}/cfo.ics")).await;
    assert_eq!(status, 200);
    assert!(cfo.contains("SUMMARY:Exec team"), "{cfo}");
    assert!(cfo.contains("SUMMARY:Pipeline"), "by chat user: {cfo}");
    assert!(!cfo.contains("SUMMARY:Board prep"), "{cfo}");
    assert!(cfo.contains("X-WR-CALNAME:Quorum: cfo (Bea Ruiz)"), "{cfo}");

    // Unknown roles and tokens, malformed ones and other paths: 404.
    for path in [
        format!("/calendar/{token}/cmo.ics"),
        format!("/calendar/{token}/cfo.txt"),
        format!("/calendar/{token}"),
        format!("/calendar/{}.ics", "0".repeat(48)),
        format!("/calendar/{}.ics", &token[..47]),
        format!("/calendar/{}x.ics", &token[..47]),
    ] {
        let (status, _, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body, "not found\n", "{path}");
    }
    // The same selector with another secret is refused.
    let forged = format!("{}{}", &token[..16], "f".repeat(32));
    assert_eq!(get(&format!("{base}/calendar/{forged}.ics")).await.0, 404);

    // Rotating revokes the old links and issues new ones.
    let bad = h.fails("ana", now, "/meeting calendar rotate:maybe").await;
    assert_eq!(bad, "rotate: `maybe` is not true or false");
    let rotated = h.cmd(now, "/meeting calendar rotate:true").await;
    assert!(
        rotated.contains("previous calendar links are revoked"),
        "{rotated}"
    );
    let new_token = token_of(&links(&rotated)["every series"]);
    assert_ne!(new_token, token);
    assert_eq!(get(&format!("{base}/calendar/{token}.ics")).await.0, 404);
    assert_eq!(
        get(&format!("{base}/calendar/{token}/cfo.ics")).await.0,
        404
    );
    assert_eq!(
        get(&format!("{base}/calendar/{new_token}.ics")).await.0,
        200
    );

    // Another executive gets a token of their own; it does not revoke Ana's.
    let bea = h.as_user("bea", now, "/meeting calendar").await;
    let bea_token = token_of(&links(&bea)["every series"]);
    assert_eq!(
        get(&format!("{base}/calendar/{bea_token}.ics")).await.0,
        200
    );
    assert_eq!(
        get(&format!("{base}/calendar/{new_token}.ics")).await.0,
        200
    );

    // Only the hash of the secret is stored.
    let stored = stored_tokens(&h).await;
    assert_eq!(stored.len(), 3);
    for (selector, hash) in &stored {
        assert_eq!(selector.len(), 16);
        assert_eq!(hash.len(), 64);
        for t in [&token, &new_token, &bea_token] {
            assert!(!t.contains(hash.as_str()) && !hash.contains(&t[16..]));
        }
    }
}

async fn stored_tokens(h: &Harness) -> Vec<(String, String)> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.url).await.unwrap();
    let rows = sqlx::query("SELECT selector, verifier_hash FROM calendar_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

#[tokio::test]
async fn weekend_and_holiday_occurrences_are_flagged_and_warned_once_a_week_ahead() {
    let h = harness_with(STARTED, org_config()).await;
    let now = "2026-11-28T09:00:00Z";
    // The 25th at 10:00: 25 December is a holiday, 25 January 2027 a Monday.
    h.cmd(now, r#"/meeting add title:"Review" when:"monthly on day 25 at 10:00" tz:Europe/Madrid channel:exec"#).await;
    // Saturdays, shifted back to Friday.
    h.cmd(now, r#"/meeting add title:"Retro" when:"weekly on saturday at 09:00" tz:Europe/Madrid channel:exec shift:previous-weekday"#).await;
    let next = h.cmd(now, "/meeting next id:1").await;
    assert!(
        next.contains("Fri 25 Dec 2026 10:00 CET - heads-up: falls on a holiday (2026-12-25)"),
        "{next}"
    );
    assert!(!next.contains("Mon 25 Jan 2027 10:00 CET -"), "{next}");
    let retro = h.cmd(now, "/meeting next id:2").await;
    assert!(
        retro
            .contains("Fri 4 Dec 2026 09:00 CET (moved from Sat 5 Dec, which falls on a Saturday)"),
        "{retro}"
    );
    let all = h.cmd(now, "/meeting next").await;
    assert!(all.contains("heads-up: falls on a holiday"), "{all}");

    // The shifted series' reminders follow the moved occurrence.
    let list = h.cmd(now, "/meeting list").await;
    assert!(list.contains("Retro - weekly on saturday at 09:00 (Europe/Madrid) in #exec; next Fri 4 Dec 2026 09:00 CET"), "{list}");

    // Nothing is warned more than a week ahead...
    h.tick("2026-12-17T09:00:00Z").await;
    let warned = |h: &Harness| {
        h.chat
            .texts()
            .into_iter()
            .filter(|t| t.contains("Heads-up"))
            .collect::<Vec<_>>()
    };
    assert!(
        warned(&h).iter().all(|t| !t.contains("Review")),
        "{:?}",
        warned(&h)
    );
    // ...then once, however often the scheduler runs.
    h.tick("2026-12-18T10:00:00Z").await;
    h.tick("2026-12-18T10:05:00Z").await;
    h.tick("2026-12-20T10:00:00Z").await;
    let review: Vec<String> = warned(&h)
        .into_iter()
        .filter(|t| t.contains("Review"))
        .collect();
    assert_eq!(review.len(), 1, "{review:?}");
    assert!(
        review[0].starts_with("[#exec] Heads-up: Review (series 1) on Fri 25 Dec 2026 10:00 CET falls on a holiday (2026-12-25)"),
        "{review:?}"
    );
    let retro: Vec<String> = warned(&h)
        .into_iter()
        .filter(|t| t.contains("Retro"))
        .collect();
    assert!(
        retro
            .iter()
            .any(|t| t.contains("moves from Sat 26 Dec 2026 09:00 CET to Thu 24 Dec 2026")),
        "the 26th falls back past the 25th holiday to the 24th: {retro:?}"
    );
}

#[tokio::test]
async fn an_occurrence_moved_onto_a_weekend_is_warned_once_and_its_override_gets_a_new_sequence() {
    let h = harness_with(STARTED, org_config()).await;
    let base = serve(&h).await;
    let now = "2026-11-28T09:00:00Z";
    // Wednesdays at 10:00 in Madrid; the next is Wednesday 2 December.
    h.cmd(now, r#"/meeting add title:"Ops review" when:"weekly on wednesday at 10:00" tz:Europe/Madrid channel:exec"#).await;
    let token = token_of(&links(&h.cmd(now, "/meeting calendar").await)["every series"]);
    let feed = || {
        let url = format!("{base}/calendar/{token}.ics");
        async move { events(&get(&url).await.2) }
    };
    let override_of = |events: &[String]| {
        events
            .iter()
            .find(|e| {
                prop(e, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=Europe/Madrid:20261202T100000"]
            })
            .cloned()
    };
    let before = feed().await;
    assert_eq!(prop(&before[0], "SEQUENCE"), ["SEQUENCE:0"]);
    assert!(override_of(&before).is_none());

    // Moved onto Saturday 5 December: an override with a new SEQUENCE,
    // saying the day is a weekend.
    let moved = h.cmd(now, "/meeting move id:1 date:2026-12-05").await;
    assert!(moved.contains("Sat 5 Dec 2026 10:00"), "{moved}");
    let after = feed().await;
    let o = override_of(&after).expect("the move is an override");
    assert_eq!(
        prop(&o, "DTSTART"),
        ["DTSTART;TZID=Europe/Madrid:20261205T100000"]
    );
    assert_eq!(prop(&o, "SEQUENCE"), ["SEQUENCE:1"], "{o}");
    assert!(
        o.contains("Heads-up: Sat 5 Dec 2026 falls on a Saturday"),
        "{o}"
    );

    // The heads-up goes out once, through the queue: not again on later
    // ticks, nor after a restart.
    let warned = |h: &Harness| {
        h.chat
            .texts()
            .into_iter()
            .filter(|t| t.contains("Heads-up"))
            .collect::<Vec<_>>()
    };
    h.tick("2026-11-28T09:10:00Z").await;
    h.tick("2026-11-28T09:20:00Z").await;
    h.tick("2026-11-29T09:00:00Z").await;
    let sent = warned(&h);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("[#exec] Heads-up: Ops review (series 1) on Sat 5 Dec 2026 10:00 CET falls on a Saturday"),
        "{sent:?}"
    );
    assert!(
        sent[0].contains("moved there from Wed 2 Dec 2026 10:00 CET with /meeting move"),
        "{sent:?}"
    );
    let url = h.url.clone();
    let h = support::core::reopen(h.dir, url, "2026-11-29T10:00:00Z", org_config()).await;
    h.tick("2026-11-29T10:00:00Z").await;
    h.tick("2026-11-30T10:00:00Z").await;
    assert!(warned(&h).is_empty(), "{:?}", warned(&h));

    // Moved again, to a working day: the same override, the next SEQUENCE,
    // no heads-up in its description.
    let base = serve(&h).await;
    h.cmd("2026-11-30T10:00:00Z", "/meeting move id:1 date:2026-12-08")
        .await;
    let again = events(&get(&format!("{base}/calendar/{token}.ics")).await.2);
    let o = override_of(&again).expect("still an override of the slot");
    assert_eq!(
        prop(&o, "DTSTART"),
        ["DTSTART;TZID=Europe/Madrid:20261208T100000"]
    );
    assert_eq!(prop(&o, "SEQUENCE"), ["SEQUENCE:2"], "{o}");
    assert!(!o.contains("Heads-up"), "{o}");
}

fn rfc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Occurrences of the feed between `from` and `until`, by SUMMARY, as
/// Python's `recurring-ical-events` expands them.
fn python_occurrences(
    feed: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> BTreeMap<String, Vec<(String, String)>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.ics");
    std::fs::write(&path, feed).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/oracle/ical_expand.py"
        ))
        .arg(&path)
        .arg(from.to_rfc3339())
        .arg(until.to_rfc3339())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "ical_expand.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut by_title: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        by_title.entry(cols[0].to_string()).or_default().push((
            cols[1].to_string(),
            cols.get(3).copied().unwrap_or("").to_string(),
        ));
    }
    by_title
}

/// `quorum schedule preview` from `from`, the instants before `until`, in UTC.
fn preview(cadence: &str, tz: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<String> {
    let (code, out, err) = support::run(
        &[
            "schedule",
            "preview",
            "--cadence",
            cadence,
            "--tz",
            tz,
            "--from",
            &from.to_rfc3339(),
            "--count",
            "800",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| DateTime::parse_from_rfc3339(l).unwrap().with_timezone(&Utc))
        .filter(|at| *at < until)
        .map(rfc)
        .collect()
}

#[tokio::test]
#[ignore = "needs python icalendar and recurring-ical-events"]
async fn every_occurrence_in_two_years_matches_schedule_preview() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/quorum.example.toml");
    let mut config = Config::from_toml(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    config.holidays = Holidays::new(
        ["2026-12-25", "2027-01-01", "2027-12-24", "2028-05-01"]
            .iter()
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
    );
    let seeds = config.series.clone();
    // The feed is built at the real clock: series start now too.
    let now = Utc::now() - Duration::nanoseconds(i64::from(Utc::now().timestamp_subsec_nanos()));
    let now = now + Duration::seconds(if now.timestamp() % 60 == 0 { 1 } else { 0 });
    let h = harness_with(STARTED, config.clone()).await;
    let created = h.app.meetings.seed(&config, &seeds, now).await.unwrap();
    assert_eq!(created, seeds.len());
    let ws = quorum::CONSOLE_WORKSPACE;
    let at = rfc(now);
    // DST edges: the spring gaps and autumn overlaps of three hemispheres' rules.
    let edges = [
        (
            "Madrid gap and overlap",
            "weekly on sunday at 02:30",
            "Europe/Madrid",
        ),
        (
            "New York gap and overlap",
            "daily at 01:30",
            "America/New_York",
        ),
        (
            "New York spring gap",
            "weekly on sunday at 02:15",
            "America/New_York",
        ),
        (
            "Sydney gap and overlap",
            "weekly on sunday at 02:30",
            "Australia/Sydney",
        ),
        (
            "Sydney month ends",
            "monthly on the last day at 02:30",
            "Australia/Sydney",
        ),
    ];
    for (title, when, tz) in edges {
        let r = h
            .reply(
                ws,
                "cto",
                &at,
                &format!(r#"/meeting add title:"{title}" when:"{when}" tz:{tz}"#),
            )
            .await;
        assert!(!r.is_error, "{title}: {}", r.text);
    }
    // Moved off weekends and holidays: overrides Python must apply.
    let shifted = [
        (
            "Shifted forward",
            "monthly on day 27 at 17:00",
            "America/New_York",
            "next-weekday",
        ),
        (
            "Shifted back",
            "monthly on day 1 at 09:00",
            "Europe/Madrid",
            "previous-weekday",
        ),
    ];
    for (title, when, tz, shift) in shifted {
        let r = h
            .reply(
                ws,
                "cto",
                &at,
                &format!(r#"/meeting add title:"{title}" when:"{when}" tz:{tz} shift:{shift}"#),
            )
            .await;
        assert!(!r.is_error, "{title}: {}", r.text);
    }
    // Skip the next CTO-CEO 1:1 and the next Madrid edge.
    for id in [1, seeds.len() + 1] {
        let r = h
            .reply(ws, "cto", &at, &format!("/meeting skip id:{id}"))
            .await;
        assert!(!r.is_error, "{}", r.text);
    }
    // Move the next Madrid Sunday (after the skipped one) to the Saturday
    // before it, and the next "Shifted back" two days later: overrides with
    // RECURRENCE-ID that Python must apply.
    let series_now = h
        .app
        .meetings
        .list(&support::core::actor(ws, "cto"))
        .await
        .unwrap();
    for (title, days) in [("Madrid gap and overlap", -1), ("Shifted back", 2)] {
        let s = series_now.iter().find(|s| s.row.title == title).unwrap();
        let next = s.local(s.row.next_at.unwrap());
        let date = next.date_naive() + Duration::days(days);
        let r = h
            .reply(
                ws,
                "cto",
                &at,
                &format!("/meeting move id:{} date:{date} time:12:00", s.row.id),
            )
            .await;
        assert!(!r.is_error, "{title}: {}", r.text);
    }
    let r = h.reply(ws, "cto", &at, "/meeting calendar").await;
    assert!(!r.is_error, "{}", r.text);
    let token = token_of(&links(&r.text)["every series"]);
    let base = serve(&h).await;
    let (status, _, feed) = get(&format!("{base}/calendar/{token}.ics")).await;
    assert_eq!(status, 200);

    let until = now + Duration::days(730);
    let got = python_occurrences(&feed, now, until);
    let list = h
        .app
        .meetings
        .list(&support::core::actor(ws, "cto"))
        .await
        .unwrap();
    assert_eq!(list.len(), seeds.len() + edges.len() + shifted.len());
    let mut compared = 0;
    for s in &list {
        let cron = s.cadence.to_string().starts_with("cron:");
        // A cron series is expanded for 90 days only.
        let horizon = if cron {
            now + Duration::days(89)
        } else {
            until
        };
        let overrides = h.app.store.overrides(s.row.id, 0).await.unwrap();
        // Skipped and moved-away slots are gone; moved occurrences are where
        // they were moved to.
        let skips: Vec<String> = overrides
            .away
            .into_iter()
            .map(|(t, _)| rfc(DateTime::from_timestamp(t, 0).unwrap()))
            .collect();
        let moved_in: Vec<String> = overrides
            .moved_in
            .into_iter()
            .map(|(t, _)| rfc(DateTime::from_timestamp(t, 0).unwrap()))
            .collect();
        let mut want: Vec<String> = preview(&s.cadence.to_string(), s.zone.name(), now, horizon)
            .into_iter()
            .map(|t| {
                // The preview's slot, moved by the series' shift rule.
                let slot = DateTime::parse_from_rfc3339(&t)
                    .unwrap()
                    .with_timezone(&s.zone.tz());
                rfc(
                    quorum::domain::holiday::place(slot, s.zone, s.shift, &config.holidays)
                        .at
                        .with_timezone(&Utc),
                )
            })
            .filter(|t| !skips.contains(t))
            .chain(moved_in.iter().cloned())
            .collect();
        // A shift moves an occurrence by up to two weeks, across the
        // horizon too: compare up to two weeks before it.
        let cutoff = rfc(horizon - Duration::days(15));
        want.sort();
        want.retain(|t| *t < cutoff);
        let have: Vec<String> = got
            .get(&s.row.title)
            .map(|v| {
                v.iter()
                    .map(|(t, _)| t.clone())
                    .filter(|t| *t < cutoff)
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(have, want, "{} ({}, {})", s.row.title, s.cadence, s.zone);
        assert!(!want.is_empty(), "{}", s.row.title);
        compared += want.len();
        if s.shift != quorum::domain::holiday::Shift::None {
            let moved = got[&s.row.title]
                .iter()
                .filter(|(_, d)| d.starts_with("Moved from"))
                .count();
            assert!(moved > 3, "{}: {moved} moved", s.row.title);
            continue;
        }
        // Occurrences on weekends and holidays say so in their description.
        for (t, description) in got.get(&s.row.title).unwrap() {
            if moved_in.contains(t) {
                assert!(description.starts_with("Moved from"), "{description}");
                continue;
            }
            let date = DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&s.zone.tz())
                .date_naive();
            let flagged = config.holidays.flag(date).is_some();
            assert_eq!(
                description.starts_with("Heads-up:"),
                flagged,
                "{} at {t}: {description}",
                s.row.title
            );
        }
    }
    // Two skips, two slots moved away.
    assert_eq!(skips_seen(&h).await, 4);
    for title in ["Madrid gap and overlap", "Shifted back"] {
        assert!(
            got[title]
                .iter()
                .any(|(_, d)| d.ends_with("with /meeting move")),
            "{title}: {:?}",
            got[title]
        );
    }
    assert!(compared > 500, "compared {compared} occurrences");
}

async fn skips_seen(h: &Harness) -> usize {
    let mut n = 0;
    for id in 1..=30 {
        n += h.app.store.overrides(id, 0).await.unwrap().away.len();
    }
    n
}
