//! The dashboard end to end over HTTP: a link from `/dashboard` (the core's
//! command entry, as every chat adapter calls it), signed in at
//! `/dashboard/login` on the real router on loopback, the page fetched with
//! the session cookie. Every section is checked against the database with
//! SQL of its own; the sign-in refusals (unknown, used, expired, raced,
//! another workspace's session) and the filters too. Runs on SQLite, and on
//! PostgreSQL with QUORUM_TEST_BACKEND=postgres or the ignored twin.

mod support;

use chrono::{DateTime, Duration, Utc};
use quorum::config::Config;
use sqlx::Row;
use support::core::{Harness, harness_with};

fn config(holiday: chrono::NaiveDate) -> Config {
    config_at(holiday, "https://quorum.example.com")
}

fn config_at(holiday: chrono::NaiveDate, public_url: &str) -> Config {
    let text = format!(
        r#"
[http]
public_url = "{public_url}"

[calendar]
holidays = ["{holiday}"]

[org.ceo]
name = "Ana García"
user = "ana"

[org.cfo]
name = "Bea Ruiz"
user = "bea"

[org.cto]
name = "Carl Ode"
user = "carl"
"#
    );
    Config::from_toml(&text, "test.toml").unwrap()
}

/// Serve the real router for `h` on a loopback port; returns its base URL.
async fn serve(h: &Harness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(h, listener).await
}

async fn serve_on(h: &Harness, listener: tokio::net::TcpListener) -> String {
    let state = quorum::http::HttpState {
        app: h.app.clone(),
        discord_key: None,
        slack_secret: None,
        slack_web: None,
    };
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, quorum::http::router(state))
            .await
            .unwrap()
    });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// The token of the link in a `/dashboard` reply (checked to be private).
async fn link_token(h: &Harness, ws: &str, user: &str, now: DateTime<Utc>) -> String {
    let r = h.reply(ws, user, &rfc(now), "/dashboard").await;
    assert!(!r.is_error && r.ephemeral, "{r:?}");
    let (_, token) = r
        .text
        .split_once("https://quorum.example.com/dashboard/login?token=")
        .unwrap_or_else(|| panic!("no link in {}", r.text));
    let token: String = token.chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{}", r.text);
    token
}

/// Sign in with `token`: (status, the session cookie's Set-Cookie, body).
async fn login(base: &str, token: &str) -> (u16, Option<String>, String) {
    let r = client()
        .get(format!("{base}/dashboard/login?token={token}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string());
    if status == 303 {
        assert_eq!(r.headers()["location"], "/dashboard");
    }
    (status, cookie, r.text().await.unwrap())
}

/// `quorum_dashboard=...` from a Set-Cookie value.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

async fn page(base: &str, cookie: Option<&str>, query: &str) -> (u16, String) {
    let mut req = client().get(format!("{base}/dashboard{query}"));
    if let Some(c) = cookie {
        req = req.header("cookie", format!("theme=dark; {c}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The HTML of `<section id="{id}">`.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in {body}"));
    let end = body[start..].find("</section>").unwrap() + start;
    &body[start..end]
}

async fn pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(url).await.unwrap()
}

async fn ids(pool: &sqlx::AnyPool, sql: &str) -> Vec<i64> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect()
}

/// Everything one workspace has, made with chat commands at times around `now`.
async fn populate(h: &Harness, now: DateTime<Utc>) {
    let t = |d: Duration| rfc(now + d);
    let today = now.date_naive();
    // A daily meeting with an agenda, and a weekly one only the CTO attends.
    h.as_user(
        "ana",
        &t(Duration::zero()),
        r#"/meeting add title:"Exec sync" when:"daily at 10:00" tz:UTC attendees:ceo,cfo"#,
    )
    .await;
    h.as_user("ana", &t(Duration::zero()), r#"/meeting add title:"Tech review" when:"weekly on wednesday at 15:00" tz:UTC attendees:cto"#).await;
    h.as_user(
        "ana",
        &t(Duration::zero()),
        r#"/meeting agenda id:1 item:"Q1 budget""#,
    )
    .await;
    // Escalations: a high one first, then a critical one (shown first).
    h.as_user(
        "bea",
        &t(-Duration::hours(3)),
        r#"/escalate topic:budget severity:high summary:"Cloud bill doubled""#,
    )
    .await;
    h.as_user(
        "carl",
        &t(-Duration::hours(1)),
        r#"/escalate topic:security severity:critical summary:"Leaked deploy key""#,
    )
    .await;
    // Action items: overdue, due today, done (awaiting verification), far off.
    let overdue = (today - Duration::days(3)).to_string();
    h.as_user(
        "ana",
        &t(-Duration::days(10)),
        &format!(r#"/action add task:"Overdue forecast" owner:cfo due:{overdue}"#),
    )
    .await;
    h.as_user(
        "ana",
        &t(Duration::zero()),
        &format!(r#"/action add task:"Weekly numbers" owner:cfo due:{today}"#),
    )
    .await;
    h.as_user(
        "ana",
        &t(Duration::zero()),
        &format!(r#"/action add task:"Rotate keys" owner:cto due:{today}"#),
    )
    .await;
    h.as_user("carl", &t(Duration::zero()), "/action done id:3")
        .await;
    let far = (today + Duration::days(40)).to_string();
    h.as_user(
        "ana",
        &t(Duration::zero()),
        &format!(r#"/action add task:"Far horizon" owner:cto due:{far}"#),
    )
    .await;
    // Decisions: one approved at once, one awaiting the CTO, one too old.
    h.as_user(
        "carl",
        &t(-Duration::days(45)),
        r#"/decision record title:"Adopt MySQL" category:tech-stack rationale:"Known""#,
    )
    .await;
    h.as_user(
        "carl",
        &t(-Duration::days(2)),
        r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"Extensions""#,
    )
    .await;
    h.as_user(
        "bea",
        &t(-Duration::hours(5)),
        r#"/decision record title:"Use Kafka" category:tech-stack rationale:"Events""#,
    )
    .await;
    // Risks: two open, one closed.
    for (who, line) in [
        (
            "ana",
            r#"/risk add title:"Key supplier insolvent" severity:high owner:cto mitigation:"Second source""#,
        ),
        (
            "ana",
            r#"/risk add title:"Runway under a year" severity:critical owner:cfo mitigation:"Bridge round""#,
        ),
        (
            "ana",
            r#"/risk add title:"Old office lease" severity:low owner:ceo mitigation:"Renegotiate""#,
        ),
        ("ana", "/risk close id:3"),
    ] {
        let r = h.reply("acme", who, &t(-Duration::hours(1)), line).await;
        assert!(!r.is_error, "{line}: {r:?}");
    }
}

async fn every_section_matches_the_database(h: Harness) {
    let base = serve(&h).await;
    let now = Utc::now();
    populate(&h, now).await;
    let db = pool(&h.url).await;
    let today = now.date_naive();

    // Sign in: a private link, exchanged once for a guarded cookie.
    let token = link_token(&h, "acme", "ana", now).await;
    let (status, set_cookie, _) = login(&base, &token).await;
    assert_eq!(status, 303);
    let set_cookie = set_cookie.expect("a session cookie");
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/dashboard",
        "Max-Age=43200",
    ] {
        assert!(set_cookie.contains(part), "{part}: {set_cookie}");
    }
    let cookie = cookie_pair(&set_cookie);
    let (status, body) = page(&base, Some(&cookie), "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("signed in as ana"), "{body}");

    // Meetings: fourteen days, the holiday flagged, the agenda shown.
    let m = section(&body, "meetings");
    assert_eq!(m.matches("class=\"day").count(), 14, "{m}");
    let holiday = holiday_date();
    let day = &m[m
        .find(&format!("<div class=\"day off\" data-date=\"{holiday}\""))
        .expect("the holiday is flagged")..];
    let day = &day[..day[1..]
        .find("<div class=\"day")
        .map_or(day.len(), |i| i + 1)];
    assert!(day.contains("falls on a holiday"), "{day}");
    let next: Vec<i64> = ids(
        &db,
        "SELECT next_at FROM series WHERE workspace = 'acme' AND id = 1",
    )
    .await;
    assert!(
        m.contains(&format!("data-series=\"1\" data-at=\"{}\"", next[0])),
        "{m}"
    );
    let agenda: Vec<String> = sqlx::query("SELECT text FROM agenda_items WHERE series_id = 1")
        .fetch_all(&db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert_eq!(agenda, ["Q1 budget"]);
    assert!(m.contains("<li>Q1 budget</li>"), "{m}");
    let wednesdays = m.matches("Tech review").count();
    assert!((1..=2).contains(&wednesdays), "one or two Wednesdays: {m}");

    // Escalations: every unresolved one, critical first.
    let e = section(&body, "escalations");
    let open = ids(
        &db,
        "SELECT id FROM escalations WHERE workspace = 'acme' AND state <> 'resolved' ORDER BY id",
    )
    .await;
    assert_eq!(open.len(), 2);
    let critical = ids(
        &db,
        "SELECT id FROM escalations WHERE workspace = 'acme' AND severity = 'critical'",
    )
    .await[0];
    let high = ids(
        &db,
        "SELECT id FROM escalations WHERE workspace = 'acme' AND severity = 'high'",
    )
    .await[0];
    let (c, hi) = (
        e.find(&format!("data-id=\"{critical}\""))
            .expect("critical listed"),
        e.find(&format!("data-id=\"{high}\"")).expect("high listed"),
    );
    assert!(c < hi, "critical first: {e}");
    assert!(
        e.contains("Leaked deploy key") && e.contains("2 open"),
        "{e}"
    );

    // Action items: overdue, due this week, awaiting verification, and counts.
    let a = section(&body, "actions");
    let overdue = ids(&db, &format!("SELECT id FROM actions WHERE workspace = 'acme' AND status IN ('open', 'reopened') AND due_date < '{today}'")).await;
    let awaiting = ids(
        &db,
        "SELECT id FROM actions WHERE workspace = 'acme' AND status = 'done'",
    )
    .await;
    assert_eq!((overdue.len(), awaiting.len()), (1, 1));
    let over = &a[a.find("<div class=\"overdue\"").expect("an overdue list")..];
    assert!(
        over[..over.find("</ul>").unwrap()].contains(&format!("data-id=\"{}\"", overdue[0])),
        "{a}"
    );
    let wait = &a[a.find("<div class=\"awaiting\"").expect("an awaiting list")..];
    assert!(
        wait[..wait.find("</ul>").unwrap()].contains(&format!("data-id=\"{}\"", awaiting[0])),
        "{a}"
    );
    assert!(
        a.contains("Weekly numbers") && !a.contains("Far horizon"),
        "{a}"
    );
    let cfo = &a[a.find("<tr data-owner=\"cfo\"").unwrap()..];
    let cfo = &cfo[..cfo.find("</tr>").unwrap()];
    assert!(
        cfo.contains(">1</td><td>1</td><td>0</td>"),
        "cfo: 1 overdue, 1 due: {cfo}"
    );
    assert!(
        a.contains("<tr data-owner=\"ceo\""),
        "every executive is counted: {a}"
    );

    // Decisions: the last 30 days by category, and the one awaiting approval.
    let d = section(&body, "decisions");
    let since = now.timestamp() - 30 * 86_400;
    let recent = ids(
        &db,
        &format!("SELECT id FROM decisions WHERE workspace = 'acme' AND created_at >= {since}"),
    )
    .await;
    let proposed = ids(
        &db,
        "SELECT id FROM decisions WHERE workspace = 'acme' AND status = 'proposed'",
    )
    .await;
    assert_eq!((recent.len(), proposed.len()), (2, 1));
    for id in &recent {
        assert!(d.contains(&format!("<li data-id=\"{id}\"")), "{id}: {d}");
    }
    assert!(!d.contains("Adopt MySQL"), "older than 30 days: {d}");
    let waiting = &d[d.find("class=\"items waiting\"").unwrap()..];
    assert!(
        waiting[..waiting.find("</ul>").unwrap()].contains(&format!("data-id=\"{}\"", proposed[0])),
        "{d}"
    );
    assert!(
        d.contains("data-category=\"tech-stack\"") && d.contains("waiting 5h"),
        "{d}"
    );

    // The chart: per-week counts add up to the database's.
    let ch = section(&body, "chart");
    let sum = |attr: &str| -> i64 {
        ch.match_indices(&format!("{attr}=\""))
            .map(|(i, m)| {
                let rest = &ch[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse::<i64>().unwrap()
            })
            .sum()
    };
    let opened = ids(&db, "SELECT COUNT(*) FROM actions WHERE workspace = 'acme'").await[0];
    let closed = ids(
        &db,
        "SELECT COUNT(*) FROM actions WHERE workspace = 'acme' AND done_at IS NOT NULL",
    )
    .await[0];
    let raised = ids(
        &db,
        "SELECT COUNT(*) FROM escalations WHERE workspace = 'acme'",
    )
    .await[0];
    assert_eq!(
        (
            sum("data-opened"),
            sum("data-closed"),
            sum("data-escalations")
        ),
        (opened, closed, raised)
    );
    assert_eq!(ch.matches("<g class=\"week\"").count(), 13, "{ch}");
    assert!(ch.contains("<svg"), "{ch}");

    // Filters: the CTO's view, a category, and clear errors for bad values.
    let (status, cto) = page(&base, Some(&cookie), "?exec=cto").await;
    assert_eq!(status, 200);
    assert!(section(&cto, "escalations").contains("Leaked deploy key"));
    assert!(
        !section(&cto, "escalations").contains("Cloud bill doubled"),
        "{cto}"
    );
    assert!(!section(&cto, "meetings").contains("Exec sync"));
    assert!(section(&cto, "actions").contains("Rotate keys"));
    assert!(!section(&cto, "actions").contains("Weekly numbers"));
    let (status, bad) = page(&base, Some(&cookie), "?exec=nobody").await;
    assert_eq!(status, 400);
    assert!(
        bad.contains("`nobody` is not an executive of this workspace; use one of: ceo, cfo, cto"),
        "{bad}"
    );
    let (status, bad) = page(&base, Some(&cookie), "?category=astrology").await;
    assert_eq!(status, 400);
    assert!(
        bad.contains("`astrology` is not a decision category"),
        "{bad}"
    );
    let (status, budget) = page(&base, Some(&cookie), "?category=budget").await;
    assert_eq!(status, 200);
    assert!(
        section(&budget, "decisions").contains("No decisions in the last 30 days"),
        "{budget}"
    );

    // Risks: the open ones, most severe first; the closed one is gone.
    let r = section(&body, "risks");
    let open_risks = ids(
        &db,
        "SELECT id FROM risks WHERE workspace = 'acme' AND status <> 'closed' ORDER BY id",
    )
    .await;
    assert_eq!(open_risks, [1, 2]);
    let (first, second) = (
        r.find("data-id=\"2\"").expect("the critical risk"),
        r.find("data-id=\"1\"").expect("the high risk"),
    );
    assert!(first < second, "critical first: {r}");
    assert!(
        r.contains("Risks (2 open)") && !r.contains("Old office lease"),
        "{r}"
    );
    assert!(r.contains("Mitigation: Bridge round"), "{r}");
    let (_, cto_only) = page(&base, Some(&cookie), "?exec=cto").await;
    let r = section(&cto_only, "risks");
    assert!(
        r.contains("Key supplier insolvent") && !r.contains("Runway under a year"),
        "filtered by executive: {r}"
    );

    // Another workspace sees only its own, with its own session.
    let r = h
        .reply(
            "globex",
            "zoe",
            &rfc(now),
            r#"/escalate topic:budget severity:low summary:"Other team's secret""#,
        )
        .await;
    assert!(!r.is_error, "{r:?}");
    let other = link_token(&h, "globex", "zoe", now).await;
    let (status, other_cookie, _) = login(&base, &other).await;
    assert_eq!(status, 303);
    let (_, theirs) = page(&base, Some(&cookie_pair(&other_cookie.unwrap())), "").await;
    assert!(theirs.contains("Workspace globex"), "{theirs}");
    for secret in [
        "Leaked deploy key",
        "Cloud bill doubled",
        "Exec sync",
        "Weekly numbers",
        "Use Kafka",
        "Runway under a year",
    ] {
        assert!(
            !theirs.contains(secret),
            "{secret} leaked into another workspace"
        );
    }
    let (_, ours) = page(&base, Some(&cookie), "").await;
    assert!(!ours.contains("Other team&#39;s secret") && !ours.contains("Other team's secret"));
    db.close().await;
}

async fn sign_in_is_refused_clearly(h: Harness) {
    let base = serve(&h).await;
    let now = Utc::now();

    // No cookie, or one Quorum never issued: 401, asking for /dashboard.
    let (status, body) = page(&base, None, "").await;
    assert_eq!(status, 401);
    assert!(body.contains("Type /dashboard"), "{body}");
    let forged = format!("quorum_dashboard={}", "ab".repeat(32));
    assert_eq!(page(&base, Some(&forged), "").await.0, 401);
    assert_eq!(
        page(&base, Some("quorum_dashboard=' OR 1=1 --"), "")
            .await
            .0,
        401
    );

    // Unknown, malformed and missing tokens.
    let (status, _, body) = login(&base, &"cd".repeat(32)).await;
    assert_eq!(status, 404);
    assert!(body.contains("does not know this sign-in link"), "{body}");
    assert_eq!(login(&base, "nothex").await.0, 404);
    let r = client()
        .get(format!("{base}/dashboard/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // A used link.
    let token = link_token(&h, "acme", "ana", now).await;
    assert_eq!(login(&base, &token).await.0, 303);
    let (status, cookie, body) = login(&base, &token).await;
    assert_eq!((status, cookie), (410, None));
    assert!(body.contains("already used"), "{body}");

    // An expired link: issued 16 minutes ago.
    let old = link_token(&h, "acme", "ana", now - Duration::minutes(16)).await;
    let (status, _, body) = login(&base, &old).await;
    assert_eq!(status, 410);
    assert!(body.contains("has expired"), "{body}");
    // Still fresh at 14 minutes.
    let fresh = link_token(&h, "acme", "ana", now - Duration::minutes(14)).await;
    assert_eq!(login(&base, &fresh).await.0, 303);

    // Two uses racing: exactly one session.
    let raced = link_token(&h, "acme", "ana", now).await;
    let (a, b, c) = tokio::join!(
        login(&base, &raced),
        login(&base, &raced),
        login(&base, &raced)
    );
    let mut got = [a.0, b.0, c.0];
    got.sort();
    assert_eq!(got, [303, 410, 410]);
    let db = pool(&h.url).await;
    let sessions = ids(&db, "SELECT COUNT(*) FROM dashboard_sessions").await[0];
    assert_eq!(sessions, 3, "one session per successful sign-in");
    // Nothing secret is stored in the clear.
    let stored: Vec<String> = sqlx::query("SELECT token_hash FROM dashboard_links")
        .fetch_all(&db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert!(!stored.contains(&token) && stored.len() == 4, "{stored:?}");
    db.close().await;

    // The command itself: private, and nothing after it.
    let r = h.reply("acme", "ana", &rfc(now), "/dashboard now").await;
    assert!(
        r.is_error && r.ephemeral && r.text.contains("/dashboard takes nothing"),
        "{r:?}"
    );
    let r = h
        .reply("acme", "ana", &rfc(now), "/dashboard exec:cfo")
        .await;
    assert!(r.is_error && r.text.contains("takes no options"), "{r:?}");
}

/// A working day two or more days ahead, made a holiday.
fn holiday_date() -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut d = Utc::now().date_naive() + Duration::days(2);
    while d.weekday().number_from_monday() > 5 {
        d += Duration::days(1);
    }
    d
}

async fn sqlite() -> Harness {
    harness_with("2026-01-01T00:00:00Z", config(holiday_date())).await
}

async fn postgres() -> Harness {
    let url = support::core::fresh_postgres_database().await;
    support::core::reopen(
        tempfile::tempdir().unwrap(),
        url,
        "2026-01-01T00:00:00Z",
        config(holiday_date()),
    )
    .await
}

#[tokio::test]
async fn every_section_of_the_page_matches_the_database() {
    every_section_matches_the_database(sqlite().await).await;
}

#[tokio::test]
async fn sign_in_refuses_unknown_used_expired_and_raced_links() {
    sign_in_is_refused_clearly(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn every_section_of_the_page_matches_the_database_on_postgres() {
    every_section_matches_the_database(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn sign_in_refuses_unknown_used_expired_and_raced_links_on_postgres() {
    sign_in_is_refused_clearly(postgres().await).await;
}

/// chromedriver on a loopback port, stopped when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromedriver() -> Driver {
    let port = free_port();
    let child = std::process::Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("/usr/bin/chromedriver (Debian's chromium-driver package)");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian's chromium and chromium-driver packages)"]
async fn a_person_signs_in_through_the_link_and_reads_every_section_in_chromium() {
    use fantoccini::{ClientBuilder, Locator};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let h = harness_with("2026-01-01T00:00:00Z", config_at(holiday_date(), &public)).await;
    let base = serve_on(&h, listener).await;
    let now = Utc::now();
    populate(&h, now).await;
    let r = h.reply("acme", "ana", &rfc(now), "/dashboard").await;
    let link = r
        .text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{base}/dashboard/login?token=")))
        .unwrap_or_else(|| panic!("no link in {}", r.text))
        .to_string();

    let driver = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
                "--window-size=1100,2600",
            ],
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver");

    let result = async {
        c.goto(&link).await?;
        assert_eq!(c.current_url().await?.as_str(), format!("{base}/dashboard"));
        assert_eq!(c.title().await?, "Quorum dashboard");
        for (id, heading) in [
            ("meetings", "Meetings: the next two weeks"),
            ("escalations", "Escalations (2 open)"),
            ("actions", "Action items"),
            ("decisions", "Decisions"),
            ("chart", "The last quarter, week by week"),
        ] {
            let h2 = c.find(Locator::Css(&format!("section#{id} h2"))).await?;
            assert_eq!(h2.text().await?, heading);
        }
        let rows = c
            .find_all(Locator::Css("section#escalations tbody tr"))
            .await?;
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].attr("data-severity").await?.as_deref(),
            Some("critical")
        );
        let days = c.find_all(Locator::Css("section#meetings .day")).await?;
        assert_eq!(days.len(), 14);
        let agenda = c
            .find(Locator::Css("section#meetings ol.agenda li"))
            .await?;
        assert_eq!(agenda.text().await?, "Q1 budget");
        let bars = c.find_all(Locator::Css("section#chart svg g.week")).await?;
        assert_eq!(bars.len(), 13);
        // The session cookie is HttpOnly: no script on the page can read it.
        let seen = c.execute("return document.cookie", vec![]).await?;
        assert_eq!(seen, serde_json::json!(""));
        let shot = c.screenshot().await?;
        assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
        std::fs::write(&out, &shot).unwrap();

        // A filter from the form, and the page on a phone's width.
        c.goto(&format!("{base}/dashboard?exec=cto")).await?;
        let rows = c
            .find_all(Locator::Css("section#escalations tbody tr"))
            .await?;
        assert_eq!(rows.len(), 1);
        c.set_window_size(390, 2400).await?;
        let fits = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await?;
        assert_eq!(
            fits,
            serde_json::json!(true),
            "no sideways scrolling on a phone"
        );
        let shot = c.screenshot().await?;
        std::fs::write(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-phone.png"),
            &shot,
        )
        .unwrap();

        // The link worked once: using it again in the browser is refused.
        c.goto(&link).await?;
        let msg = c.find(Locator::Css("section#message h2")).await?;
        assert_eq!(msg.text().await?, "This sign-in link was already used");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    drop(driver);
    result.unwrap();
}
