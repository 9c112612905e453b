//! The command line: `schedule preview` and `check-config`.

mod support;

use support::run;

#[test]
fn preview_prints_rfc3339_occurrences_in_the_zone() {
    let (code, out, _) = run(
        &[
            "schedule",
            "preview",
            "--cadence",
            "weekly on monday at 10:00",
            "--tz",
            "Europe/Madrid",
            "--from",
            "2026-03-20T00:00:00Z",
            "--count",
            "3",
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "2026-03-23T10:00:00+01:00\n2026-03-30T10:00:00+02:00\n2026-04-06T10:00:00+02:00\n"
    );
}

#[test]
fn preview_defaults_to_ten_occurrences() {
    let (code, out, _) = run(
        &[
            "schedule",
            "preview",
            "--cadence",
            "daily at 09:00",
            "--tz",
            "UTC",
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 10);
}

#[test]
fn preview_rejects_a_bad_cadence_zone_or_start_with_status_2_and_one_line() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--cadence", "fortnightly", "--tz", "UTC"],
            "quorum: --cadence: `fortnightly` is not a cadence",
        ),
        (
            &["--cadence", "daily at 09:00", "--tz", "Moon/Tranquility"],
            "quorum: --tz: `Moon/Tranquility` is not an IANA time zone",
        ),
        (
            &[
                "--cadence",
                "daily at 09:00",
                "--tz",
                "UTC",
                "--from",
                "yesterday",
            ],
            "quorum: --from: `yesterday` is not an RFC 3339 time",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["schedule", "preview"];
        all.extend_from_slice(args);
        let (code, out, err) = run(&all, &[]);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with(expected), "{err}");
        assert!(
            err.contains("accepted")
                || err.contains("use")
                || err.contains("such as")
                || err.contains("Cadences:"),
            "says what is accepted: {err}"
        );
    }
}

#[test]
fn check_config_accepts_the_example_and_reports_bad_values_with_file_and_line() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/quorum.example.toml");
    let (code, out, err) = run(&["check-config", "--config", example], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("config ok: database sqlite://quorum.db, 6 executives, 16 series"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[scheduler]\ngrace = \"1h\"\n\n[[series]]\ntitle = \"Ops\"\nwhen = \"weekly on mondy at 10:00\"\n").unwrap();
    let (code, _, err) = run(&["check-config", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "quorum: {}:6:8: series #1 (Ops) when: `mondy` is not a weekday; did you mean `monday`?",
            bad.display()
        )
    );

    std::fs::write(&bad, "[database]\nurll = \"x\"\n").unwrap();
    let (code, _, err) = run(&["console", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "a bad config stops start-up");
    assert!(
        err.contains("bad.toml:2:1: unknown field `urll`, expected `url`"),
        "{err}"
    );
}

#[test]
fn a_bad_environment_override_stops_start_up() {
    let (code, _, err) = run(&["check-config"], &[("QUORUM_SCHEDULER_GRACE", "later")]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("quorum: QUORUM_SCHEDULER_GRACE: `later` is not a duration"),
        "{err}"
    );
}

#[test]
fn check_config_rejects_a_path_level_nobody_can_act_at_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.toml");
    let cases = [
        (
            "[escalation]\npath = [\"department\", \"vp-eng\"]\n",
            "escalation.path: nobody can act at level `vp-eng`",
        ),
        (
            "[escalation]\npath = [\"board\"]\n",
            "escalation.path: medium and low escalations never reach the board",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&file, text).unwrap();
        let (code, _, err) = run(&["check-config", "--config", file.to_str().unwrap()], &[]);
        assert_eq!(code, 2, "{text}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with(&format!("quorum: {}:2:8: {expected}", file.display())),
            "{err}"
        );
    }
}

#[test]
fn notify_takes_channel_or_dm_and_a_dm_without_a_user_id_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.toml");
    std::fs::write(
        &file,
        "[org.cto]\nname = \"CTO\"\nchannel = \"cto\"\nnotify = \"email\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = run(&["check-config", "--config", path], &[]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err.trim(),
        format!(
            "quorum: {path}:4:10: org.cto.notify: `email` is not a way to notify; use \"channel\" or \"dm\""
        )
    );

    std::fs::write(
        &file,
        "[org.cto]\nname = \"CTO\"\nchannel = \"cto\"\nnotify = \"dm\"\n\n[org.cfo]\nname = \"CFO\"\nslack_user = \"U0123ABCD\"\nnotify = \"dm\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&["check-config", "--config", path], &[]);
    assert_eq!(code, 0, "valid, with a warning: {err}");
    assert!(out.starts_with("config ok:"), "{out}");
    assert_eq!(
        err.trim(),
        "warning: org.cto: notify = \"dm\" needs a chat user id (user = a Discord user id, slack_user = a Slack user id); until then its notices go to #cto",
        "the cfo has an id and is not warned about"
    );
}
