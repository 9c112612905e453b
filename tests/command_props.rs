//! Property tests of the command grammar: whatever a user types (any text,
//! unicode, control characters, numbers past i64, empty values) for any
//! option of any command, parsing never panics, and a refusal is one line
//! of text. Both entries are driven: `command::parse` (the console and
//! Slack's text) and `command::from_options` (Discord's and Slack's typed
//! options).

mod support;

use proptest::prelude::*;
use quorum::command::{self, CommandSpec};

/// Values people (or attackers) could put in an option.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        // Control characters, line and paragraph separators, quotes, colons.
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{2029}\\u{201C}\\u{201D} a-z0-9:\"'#-]{0,24}",
        Just(String::new()),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<u64>(), "[smhdw]|bd| days| weeks| months").prop_map(|(n, u)| format!("{n}{u}")),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| format!("{a}{b}")),
        prop::sample::select(vec![
            "99999999999999999999",
            "#99999999999999999999",
            "-1",
            "0",
            "1e308",
            "NaN",
            "10000000000000000s",
            "9223372036854775807s",
            "1d,10000000000000000s",
            "4294967295bd",
            "in 4294967295 days",
            "in 4294967295 months",
            "+262142-12-31",
            "9999-12-31",
            "-0001-01-01",
            "every 4294967295 weeks on monday at 10:00",
            "monthly on the 4294967295th at 10:00",
            "once on 262143-12-31 at 23:59",
            "cron:99999999999 * * * *",
            "weekly on monday at 99:99",
            "Europe/Madrid",
            "weekly on monday at 10:00",
            "1d,15m",
            "2026-01-01",
            "high",
            "cto",
            "#general",
            "<@&123>",
        ])
        .prop_map(str::to_string),
    ]
}

/// One command of the spec table and a value (or none) for each of its
/// options, sometimes with an option it does not have.
fn invocation() -> impl Strategy<Value = (&'static CommandSpec, Vec<(String, String)>)> {
    let specs = command::specs();
    (
        prop::sample::select(specs),
        prop::collection::vec(prop::option::weighted(0.6, value()), 8),
        prop::option::weighted(0.1, ("[a-z]{1,8}", value())),
    )
        .prop_map(|(spec, values, extra)| {
            let mut options: Vec<(String, String)> = spec
                .options
                .iter()
                .zip(values)
                .filter_map(|(o, v)| Some((o.name.to_string(), v?)))
                .collect();
            if let Some((name, v)) = extra
                && !options.iter().any(|(n, _)| *n == name)
            {
                options.push((name, v));
            }
            (spec, options)
        })
}

fn path(spec: &CommandSpec) -> Vec<&'static str> {
    if spec.name.is_empty() {
        vec![spec.family]
    } else {
        vec![spec.family, spec.name]
    }
}

/// The line a user would type: every value quoted.
fn line(spec: &CommandSpec, options: &[(String, String)]) -> String {
    let mut line = spec.title();
    for (name, value) in options {
        line.push_str(&format!(" {name}:\"{value}\""));
    }
    line
}

fn assert_one_line(result: quorum::error::Result<command::Command>, what: &str) {
    if let Err(e) = result {
        let text = e.to_user_text();
        assert!(!text.is_empty(), "{what}: an empty error");
        assert!(
            !text.contains(['\n', '\r', '\u{2028}', '\u{2029}']),
            "{what}: the error is not one line: {text:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn typed_options_never_panic_and_refusals_are_one_line((spec, options) in invocation()) {
        let what = format!("{} {options:?}", spec.title());
        assert_one_line(command::from_options(&path(spec), options.clone()), &what);
    }

    #[test]
    fn text_lines_never_panic_and_refusals_are_one_line((spec, options) in invocation()) {
        let text = line(spec, &options);
        assert_one_line(command::parse(&text), &text);
    }

    #[test]
    fn any_line_at_all_never_panics(text in prop_oneof![any::<String>(), "/[a-z ]{0,20}\\PC{0,40}".prop_map(String::from)]) {
        assert_one_line(command::parse(&text), &text);
    }
}

#[test]
fn an_empty_path_from_a_platform_is_an_error_not_a_panic() {
    assert!(command::from_options(&[], Vec::new()).is_err());
    assert!(command::from_options(&[""], Vec::new()).is_err());
}

#[test]
fn ids_past_i64_are_refused_in_one_line() {
    for id in [
        "99999999999999999999",
        "-5",
        "0",
        "#",
        "9223372036854775808",
    ] {
        let e = command::parse(&format!("/escalation ack id:{id}"))
            .unwrap_err()
            .to_user_text();
        assert!(e.contains("is not an id"), "{id}: {e}");
    }
}

/// The absurd values of issue 11, through the core's command entry (the one
/// the console, Discord and Slack share) and its buttons, then a scheduler
/// tick far ahead: nothing panics, and every refusal is one line.
#[tokio::test(flavor = "multi_thread")]
async fn absurd_values_through_the_core_are_refused_in_one_line() {
    let h = support::core::harness("2026-11-24T10:00:00Z", chrono::Duration::hours(1)).await;
    let now = "2026-11-24T10:00:00Z";
    h.cmd(
        now,
        r#"/meeting add title:Ops when:"daily at 10:00" remind:15m"#,
    )
    .await;
    h.cmd(now, r#"/escalate topic:budget severity:low summary:"Bill""#)
        .await;
    for line in [
        r#"/meeting add title:X when:"daily at 10:00" remind:10000000000000000s"#,
        r#"/meeting add title:X when:"daily at 10:00" remind:"1d,9223372036854775807s""#,
        r#"/meeting add title:X when:"once on 262143-12-31 at 23:59""#,
        r#"/meeting add title:X when:"once on 9999-12-31 at 23:59""#,
        r#"/meeting add title:X when:"every 4294967296 weeks on monday at 10:00""#,
        "/meeting edit id:99999999999999999999 remind:1d",
        "/meeting edit id:1 remind:10000000000000000s",
        "/meeting skip id:1 date:+262142-12-31",
        r#"/action add task:x owner:cto due:"in 4294967295 days""#,
        r#"/action add task:x owner:cto due:"in 99999999999999999999 months""#,
        "/action add task:x owner:cto due:+262142-12-31",
        "/action add task:x owner:cto due:9999-12-31",
        "/decision list since:+262142-12-31",
        "/decision list since:-262143-01-01",
        "/decision show id:99999999999999999999",
        "/escalation ack id:99999999999999999999",
        "/escalation ack id:-9223372036854775808",
    ] {
        let r = h.reply("acme", "ana", now, line).await;
        assert!(
            !r.is_error || !r.text.contains('\n'),
            "{line}: a refusal is one line: {}",
            r.text
        );
    }
    for button in [
        "snooze:99999999999999999999",
        "snooze:9223372036854775807",
        "snooze:-1",
        "esc:ack:99999999999999999999",
        "action:done:-9223372036854775808",
    ] {
        let r = h
            .app
            .press(
                &support::core::actor("acme", "ana"),
                button,
                support::core::at(now),
            )
            .await;
        assert!(r.is_error && !r.text.contains('\n'), "{button}: {}", r.text);
    }
    h.tick("2026-11-24T10:00:00Z").await;
    h.tick("2126-11-24T10:00:00Z").await;
}
