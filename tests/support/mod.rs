//! Shared helpers: drive the real `quorum` binary's console on a temporary
//! database and read what it prints.
#![allow(dead_code)]

pub mod core;
pub mod fakes;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_quorum")
}

/// A console process with its output collected line by line.
pub struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Console {
    pub fn start(db: &Path, extra_env: &[(&str, &str)], args: &[&str]) -> Console {
        Console::start_url(&format!("sqlite://{}", db.display()), extra_env, args)
    }

    /// A console on any database url (several may share a PostgreSQL one).
    pub fn start_url(url: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Console {
        let mut all = vec!["console"];
        all.extend_from_slice(args);
        Console::spawn(url, extra_env, &all)
    }

    /// Any `quorum` subcommand (e.g. `run`) on `url`, output collected.
    pub fn spawn(url: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Console {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("QUORUM_DATABASE_URL", url)
            .env("QUORUM_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start quorum console");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        // A message Quorum posts is its title line and, indented by two
        // spaces, the lines below it: they are kept together as one entry.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut lines = sink.lock().unwrap();
                match lines.last_mut() {
                    Some(last) if line.starts_with("  ") => {
                        last.push('\n');
                        last.push_str(&line);
                    }
                    _ => lines.push(line),
                }
            }
        });
        let stdin = child.stdin.take();
        Console {
            child,
            stdin,
            lines,
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to console");
        stdin.flush().expect("flush");
    }

    /// Send a command and wait for the reply that follows it.
    pub fn ask(&mut self, line: &str, expect: &str) -> String {
        let before = self.lines().len();
        self.send(line);
        self.wait_for(Duration::from_secs(10), |l| l.contains(expect), before)
            .unwrap_or_else(|| panic!("no `{expect}` after `{line}`; output: {:#?}", self.lines()))
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Wait for a line after index `from` that satisfies `pred`.
    pub fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
        from: usize,
    ) -> Option<String> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(l) = self.lines().iter().skip(from).find(|l| pred(l)) {
                return Some(l.clone());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for the process to exit.
    pub fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        let status = self.child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(100));
        (status, self.lines())
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) -> Vec<String> {
        self.child.kill().expect("kill");
        self.child.wait().ok();
        std::thread::sleep(Duration::from_millis(100));
        self.lines()
    }

    /// Close standard input and wait for a clean exit (needs --exit-on-eof).
    pub fn finish(mut self) -> (std::process::ExitStatus, Vec<String>) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(100));
        (status, self.lines())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("quorum.db");
    (dir, db)
}

/// Run the binary to completion with no standard input.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run quorum");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Rows of the deliveries table: (occurrence_at, state, late).
pub async fn deliveries(db: &Path) -> Vec<(i64, String, bool)> {
    use sqlx::Row;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let rows = sqlx::query("SELECT occurrence_at, state, late FROM deliveries WHERE kind = 'reminder' ORDER BY occurrence_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The reminder lines among `lines`.
pub fn reminders(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.contains("] Reminder"))
        .cloned()
        .collect()
}

/// The occurrence text of a reminder, e.g. `Tue 24 Nov 2026 11:05:02 UTC`
/// (its `When:` line).
pub fn occurrence_of(message: &str) -> String {
    let start = message
        .find("\n  When: ")
        .map(|i| i + "\n  When: ".len())
        .expect("reminder text");
    let end = message[start..]
        .find('\n')
        .map_or(message.len(), |e| e + start);
    message[start..end].to_string()
}
