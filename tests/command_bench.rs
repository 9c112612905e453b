//! The command benchmark in small, so it cannot rot: `benches/run.sh --smoke`
//! drives this build's `quorum run` (and the Bolt peer) with wrk for 2 s at 4
//! connections, over distinct signed slash commands, reads at 200 records
//! (list, search, mine, show, `/meeting next`), and fails unless every
//! successful `/action add` and `/decision record` was stored and every read
//! answered with its success text. Quorum runs on SQLite here (PostgreSQL too
//! when `QUORUM_BENCH_POSTGRES_URL` is set).

use std::process::Command;

#[test]
#[ignore = "needs wrk (apt-get install wrk) and python3 with slack_sdk, slack_bolt, aiohttp"]
fn the_command_bench_runs_in_small_and_stores_every_success() {
    // `wrk --version` exits non-zero; that it starts at all is the check.
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is missing: apt-get install wrk"
    );
    assert!(
        Command::new("python3")
            .args(["-c", "import slack_sdk, slack_bolt, aiohttp"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "python3 lacks slack_sdk, slack_bolt or aiohttp: pip install slack_sdk slack_bolt aiohttp"
    );
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/run.sh"))
        .args(["--smoke", "--no-install", "--quorum-bin"])
        .arg(env!("CARGO_BIN_EXE_quorum"))
        .output()
        .expect("start benches/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "benches/run.sh --smoke failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.contains("every success stored"),
        "no check line\n{stdout}\n{stderr}"
    );
    for case in ["bolt", "quorum (sqlite)"] {
        assert!(
            stdout.contains(&format!("| {case} |")),
            "no {case} row\n{stdout}"
        );
    }
    for read in [
        "`/action list`",
        "`/decision search query:\"x\"`",
        "`/action mine`",
        "`/action show id:K`",
        "`/decision show id:K`",
        "`/meeting next`",
    ] {
        assert!(
            stdout.contains(&format!("| quorum (sqlite) | {read} | 200 |")),
            "no read row for {read} at 200 records\n{stdout}"
        );
    }
}
