//! Attending / Can't make it (issues 13 and 15): the buttons on a meeting
//! reminder record an answer per occurrence, the next reminder counts the
//! answers, and the minutes say who could not make it. Also "did you mean"
//! on `/meeting edit attendees:`. Driven through the real core (button
//! presses go through `App::press`, as Slack and Discord deliver them) and a
//! scheduler ticked with a controlled clock.

mod support;

use quorum::config::Config;
use support::core::{Harness, actor, at, harness_with};

const ORG: &str = r#"
[defaults]
channel = "exec-team"

[org.ceo]
name = "Chief Executive"

[org.cto]
name = "Chief Technology"

[org.cfo]
name = "Chief Financial"
"#;

const T0: &str = "2026-11-24T08:00:00Z"; // a Tuesday

async fn setup() -> Harness {
    let h = harness_with(T0, Config::from_toml(ORG, "t.toml").unwrap()).await;
    h.cmd(
        T0,
        r#"/meeting add title:"Exec team" when:"daily at 12:00" tz:UTC remind:1h,15m attendees:ceo,cto,cfo"#,
    )
    .await;
    h
}

fn buttons(h: &Harness, n: usize) -> Vec<(String, String, String)> {
    h.chat.posts.lock().unwrap()[n]
        .buttons
        .iter()
        .map(|b| (b.label.clone(), b.id.clone(), b.command.clone()))
        .collect()
}

#[tokio::test]
async fn answers_to_a_reminder_are_counted_in_the_next_reminder_and_absences_reach_the_minutes() {
    let h = setup().await;
    let noon = at("2026-11-24T12:00:00Z").timestamp();
    h.tick("2026-11-24T11:00:00Z").await;
    let b = buttons(&h, 0);
    assert_eq!(
        b[..2],
        [
            (
                "Attending".to_string(),
                format!("attend:yes:1:{noon}"),
                "/meeting attend id:1".to_string()
            ),
            (
                "Can't make it".to_string(),
                format!("attend:no:1:{noon}"),
                "/meeting attend id:1 answer:no".to_string()
            ),
        ]
    );
    assert!(
        !h.chat.texts()[0].contains("Replies:"),
        "nobody answered yet"
    );

    let press = |user: &'static str, id: String| {
        let h = &h;
        async move {
            h.app
                .press(&actor("acme", user), &id, at("2026-11-24T11:05:00Z"))
                .await
        }
    };
    let r = press("cfo", format!("attend:no:1:{noon}")).await;
    assert!(!r.is_error && r.ephemeral, "{}", r.text);
    assert_eq!(
        r.text,
        "Noted: cfo can't make it to Exec team on Tue 24 Nov 2026 12:00 UTC; the minutes will say so."
    );
    let r = press("ceo", format!("attend:yes:1:{noon}")).await;
    assert_eq!(
        r.text,
        "Noted: ceo attends Exec team on Tue 24 Nov 2026 12:00 UTC."
    );
    // Pressing again changes the answer, it does not add one.
    press("cto", format!("attend:no:1:{noon}")).await;
    let r = press("cto", format!("attend:yes:1:{noon}")).await;
    assert!(!r.is_error, "{}", r.text);
    // A button for an occurrence that is not the next one is refused.
    let r = press("cto", format!("attend:yes:1:{}", noon + 86_400)).await;
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.contains("not the next meeting of Exec team"),
        "{}",
        r.text
    );

    h.tick("2026-11-24T11:45:00Z").await;
    let t = h.chat.texts();
    assert_eq!(t.len(), 2, "{t:#?}");
    assert!(
        t[1].contains("\n  Replies: 2 attending (ceo, cto); can't make it: cfo\n"),
        "{}",
        t[1]
    );

    h.as_user(
        "ceo",
        "2026-11-24T12:10:00Z",
        r#"/meeting notes id:1 text:"Budget agreed""#,
    )
    .await;
    h.tick("2026-11-24T13:00:00Z").await;
    let minutes = h
        .chat
        .texts()
        .into_iter()
        .find(|t| t.contains("Minutes: Exec team"))
        .expect("minutes posted");
    assert!(
        minutes.contains("Attendees: ceo (Chief Executive), cto (Chief Technology)\n  Could not make it: cfo (Chief Financial)"),
        "{minutes}"
    );
    let shown = h.cmd("2026-11-24T13:05:00Z", "/meeting minutes id:1").await;
    assert!(
        shown.contains("Could not make it: cfo (Chief Financial)"),
        "{shown}"
    );
    // The meeting is over: answering for it now is refused.
    let r = h
        .app
        .press(
            &actor("acme", "cfo"),
            &format!("attend:yes:1:{noon}"),
            at("2026-11-24T13:10:00Z"),
        )
        .await;
    assert!(
        r.is_error && r.text.contains("already taken place"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn typing_the_attend_command_answers_for_the_next_meeting_and_bad_answers_change_nothing() {
    let h = setup().await;
    let e = h
        .fails("cfo", T0, "/meeting attend id:1 answer:maybe")
        .await;
    assert_eq!(
        e,
        "answer: `maybe` is not yes or no (no: you can't make it)"
    );
    let e = h.fails("cfo", T0, "/meeting attend id:9").await;
    assert!(e.contains("there is no series 9"), "{e}");
    let r = h.as_user("cfo", T0, "/meeting attend id:1 answer:no").await;
    assert!(
        r.starts_with("Noted: cfo can't make it to Exec team"),
        "{r}"
    );
    h.tick("2026-11-24T11:00:00Z").await;
    assert!(
        h.chat.texts()[0].contains("Replies: can't make it: cfo"),
        "{}",
        h.chat.texts()[0]
    );
    // Someone outside the org chart answers under their own name.
    h.as_user("bob", T0, "/meeting attend id:1").await;
    h.tick("2026-11-24T11:45:00Z").await;
    assert!(
        h.chat.texts()[1].contains("Replies: 1 attending (bob); can't make it: cfo"),
        "{}",
        h.chat.texts()[1]
    );
}

#[tokio::test]
async fn a_typo_in_attendees_on_meeting_edit_gets_did_you_mean_and_changes_nothing() {
    let h = setup().await;
    let e = h
        .fails("ana", T0, "/meeting edit id:1 attendees:ceo,ctoo")
        .await;
    assert!(
        e.contains("attendees: `ctoo` is not in the org chart; did you mean `cto`?"),
        "{e}"
    );
    let list = h.cmd(T0, "/meeting list").await;
    assert!(!list.contains("ctoo"), "{list}");
    h.cmd(T0, "/meeting edit id:1 attendees:ceo,cto").await;
}
