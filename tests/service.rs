//! `quorum run` as an operator sees it: `/healthz` and `/readyz` tell the
//! truth and answer fast whatever the database does, and SIGTERM stops the
//! process within 10 s in every state (gateway connecting, chat API hanging,
//! database down, HTTP requests in flight). Every platform URL points at
//! loopback: nothing here dials Discord or Slack.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt as _;

const SECRET: &str = "test-signing-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP server that accepts connections and never answers (a hung API).
async fn silent() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(s);
        }
    });
    (addr, accepted)
}

struct Quorum {
    child: Child,
    base: String,
}

impl Quorum {
    fn start(dir: &Path, url: &str, toml: &str, env: &[(&str, &str)]) -> Quorum {
        let port = free_port();
        let config = dir.join("quorum.toml");
        std::fs::write(&config, toml).unwrap();
        let mut cmd = Command::new(support::bin());
        cmd.args(["--config", config.to_str().unwrap(), "run"])
            .env("QUORUM_DATABASE_URL", url)
            .env("QUORUM_HTTP_LISTEN", format!("127.0.0.1:{port}"))
            .env("QUORUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Quorum {
            child: cmd.spawn().expect("start quorum run"),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String, Duration)> {
        let started = Instant::now();
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.ok()?, started.elapsed()))
    }

    /// Wait until the HTTP server answers /readyz with 200.
    async fn ready(&self) -> String {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some((200, body, _)) = self.get("/readyz").await {
                return body;
            }
            assert!(Instant::now() < end, "quorum run never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM; how long it took to exit, and whether it exited cleanly.
    fn terminate(mut self) -> (Duration, bool) {
        let started = Instant::now();
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let end = started + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (started.elapsed(), status.success());
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                return (started.elapsed(), false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Quorum {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_stops_in_time(q: Quorum, state: &str) {
    let (took, clean) = q.terminate();
    assert!(
        took < Duration::from_secs(10),
        "{state}: exited {took:?} after SIGTERM"
    );
    assert!(clean, "{state}: exited cleanly");
    eprintln!("{state}: stopped {took:?} after SIGTERM");
}

fn slack_toml(api: &str) -> String {
    format!("[slack]\napi_base = \"{api}\"\n[discord]\ngateway = false\n")
}

fn slack_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SLACK_BOT_TOKEN", "xoxb-test-token"),
        ("SLACK_SIGNING_SECRET", SECRET),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_and_readyz_tell_the_truth_when_the_database_file_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    let (_fake, _, slack) = support::fakes::start().await;
    let q = Quorum::start(
        dir.path(),
        &format!("sqlite://{}", db.display()),
        &slack_toml(&slack),
        &slack_env(),
    );
    let body = q.ready().await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ready"], true, "{v}");
    assert_eq!(v["lag_secs"], 0, "{v}");
    assert_eq!(v["scheduler"]["running"], true, "{v}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let (status, body, took) = q.get("/readyz").await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("deleted or replaced"), "{body}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let (status, _, took) = q.get("/healthz").await.unwrap();
    assert_eq!(status, 200, "alive, even though not ready");
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_stops_in_time(q, "database file deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_fails_when_due_work_waits_longer_than_max_lag() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    // A notice due 10 minutes ago that Slack never accepts (the API hangs).
    let store = quorum::store::Store::connect(&url).await.unwrap();
    let due = chrono::Utc::now().timestamp() - 600;
    store
        .enqueue_notice("T0001TEAM", "C0001", "old", "old news", due)
        .await
        .unwrap();
    drop(store);
    let (hung, accepted) = silent().await;
    let mut env = slack_env();
    env.push(("QUORUM_SCHEDULER_MAX_LAG", "2m"));
    env.push(("QUORUM_SCHEDULER_GRACE", "1h"));
    let q = Quorum::start(
        dir.path(),
        &url,
        &slack_toml(&format!("http://{hung}/api")),
        &env,
    );
    let end = Instant::now() + Duration::from_secs(20);
    let body = loop {
        if let Some((503, body, _)) = q.get("/readyz").await {
            break body;
        }
        assert!(Instant::now() < end, "readiness never noticed the lag");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(body.contains("lag"), "{body}");
    // ... and a chat API that hangs does not hold up a stop.
    assert!(accepted.load(Ordering::SeqCst) >= 1, "a post was in flight");
    assert_stops_in_time(q, "chat API hanging");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_run_while_its_gateway_cannot_connect() {
    for variant in ["silent", "refused"] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        let (fake, discord, _) = support::fakes::start().await;
        let (hung, accepted) = silent().await;
        let gateway = match variant {
            "silent" => format!("ws://{hung}"),
            _ => format!("ws://127.0.0.1:{}", free_port()),
        };
        let toml = format!("[discord]\napi_base = \"{discord}\"\ngateway_url = \"{gateway}\"\n");
        let q = Quorum::start(
            dir.path(),
            &url,
            &toml,
            &[
                ("DISCORD_TOKEN", "test-token"),
                (
                    "DISCORD_PUBLIC_KEY",
                    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                ),
            ],
        );
        q.ready().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        if variant == "silent" {
            assert!(
                accepted.load(Ordering::SeqCst) >= 1,
                "the gateway dialled the configured URL, not Discord"
            );
        }
        assert_stops_in_time(q, &format!("gateway {variant}"));
        drop(fake);
    }
}

/// A TCP proxy in front of PostgreSQL that can black-hole it: when down, live
/// connections are cut and new ones are accepted and never answered.
struct Outage {
    addr: String,
    down: Arc<AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Outage {
    async fn start(upstream: String) -> Outage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let (d, c) = (down.clone(), conns.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    held.push(client);
                    continue;
                }
                let upstream = upstream.clone();
                c.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                    let _ = client.shutdown().await;
                }));
            }
        });
        Outage { addr, down, conns }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn a_postgres_outage_makes_quorum_clear_and_fast_and_sigterm_still_stops_it() {
    let url = support::core::fresh_postgres_database().await;
    // postgres://user:pw@host:port/db -> through the proxy.
    let at = url.rfind('@').unwrap();
    let slash = url[at..].find('/').unwrap() + at;
    let upstream = url[at + 1..slash].to_string();
    let outage = Outage::start(upstream).await;
    let proxied = format!("{}{}{}", &url[..at + 1], outage.addr, &url[slash..]);
    let dir = tempfile::tempdir().unwrap();
    let (_fake, _, slack) = support::fakes::start().await;
    let q = Quorum::start(dir.path(), &proxied, &slack_toml(&slack), &slack_env());
    q.ready().await;
    outage.cut();
    for path in ["/healthz", "/readyz"] {
        let (status, body, took) = q.get(path).await.expect("an answer");
        assert!(
            took < Duration::from_millis(1500),
            "{path} answered in {took:?}"
        );
        let expected = if path == "/healthz" { 200 } else { 503 };
        assert_eq!(status, expected, "{path}: {body}");
    }
    // A Slack command during the outage: a clear answer within Slack's 3 s.
    let ts = chrono::Utc::now().timestamp().to_string();
    let body = serde_urlencoded::to_string([
        ("team_id", "T0001TEAM"),
        ("channel_id", "C0000OPS"),
        ("user_id", "U0000ANA1"),
        ("command", "/decision"),
        (
            "text",
            r#"record title:"Outage" category:tech-stack rationale:"x""#,
        ),
        ("response_url", &format!("{slack}/respond")),
        ("trigger_id", "trig.outage"),
    ])
    .unwrap();
    let sig = quorum::http::slack::signature(SECRET, &ts, body.as_bytes());
    let send = || {
        reqwest::Client::new()
            .post(format!("{}/slack/commands", q.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.clone())
            .header("x-slack-signature", sig.clone())
            .timeout(Duration::from_secs(15))
            .body(body.clone())
            .send()
    };
    let started = Instant::now();
    let reply = send().await.expect("a reply");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let text = reply.text().await.unwrap();
    assert!(
        text.contains("Nothing was recorded") || text.contains("moment"),
        "{text}"
    );
    // A stop with a request in flight and the database still down.
    let in_flight = tokio::spawn(send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_stops_in_time(q, "database down, request in flight");
    let _ = in_flight.await;
}

#[tokio::test(flavor = "multi_thread")]
async fn quorum_slack_api_base_applies_when_the_file_names_no_api_base() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = quorum::store::Store::connect(&url).await.unwrap();
    store
        .enqueue_notice(
            "T0001TEAM",
            "C0001",
            "env",
            "sent where the environment says",
            chrono::Utc::now().timestamp(),
        )
        .await
        .unwrap();
    drop(store);
    let (fake, _, slack) = support::fakes::start().await;
    let mut env = slack_env();
    env.push(("QUORUM_SLACK_API_BASE", &slack));
    let q = Quorum::start(dir.path(), &url, "[discord]\ngateway = false\n", &env);
    q.ready().await;
    let end = Instant::now() + Duration::from_secs(20);
    while fake.slack_texts().is_empty() {
        assert!(
            Instant::now() < end,
            "the notice never reached the Slack the environment names"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        fake.slack_texts().get("sent where the environment says"),
        Some(&1)
    );
    assert_stops_in_time(q, "after posting");
}
