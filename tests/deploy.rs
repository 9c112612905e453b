//! `deploy/`: the systemd unit runs the service hardened, the nginx site
//! proxies only what chat platforms need, the example environment file names
//! every variable the code reads, and the PostgreSQL setup script works. The
//! checks with Debian's own tools (`systemd-analyze verify`, `nginx -t`, a
//! real nginx in front of a loopback upstream) need those tools: CI installs
//! them and runs these with `--include-ignored`, and a missing tool fails.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UNIT: &str = include_str!("../deploy/quorum.service");
const SITE: &str = include_str!("../deploy/nginx/quorum.conf");
const ENV_FILE: &str = include_str!("../deploy/quorum.env.example");
const SETUP: &str = "deploy/postgres-setup.sh";

/// `quorum run` exits within this after SIGTERM (README, "How the scheduler works").
const DRAIN_SECS: f64 = 8.5;

/// The values of `key=` lines in the unit, in order.
fn unit_values(key: &str) -> Vec<&'static str> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn the_unit_runs_the_service_as_its_own_user_and_outlasts_the_drain() {
    let exec = unit_values("ExecStart");
    assert_eq!(exec.len(), 1, "{exec:?}");
    let args: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(
        args.get(1),
        Some(&"run"),
        "ExecStart runs `quorum run`: {exec:?}"
    );
    assert_eq!(unit_values("User"), ["quorum"]);
    assert_eq!(unit_values("ProtectSystem"), ["strict"]);
    assert_eq!(unit_values("StateDirectory"), ["quorum"]);
    assert_eq!(unit_values("Restart"), ["on-failure"]);
    assert_eq!(unit_values("NoNewPrivileges"), ["true"]);
    let env_file = unit_values("EnvironmentFile");
    assert_eq!(env_file, ["/etc/quorum/quorum.env"]);
    let stop = unit_values("TimeoutStopSec");
    let stop: f64 = stop[0].parse().expect("TimeoutStopSec in seconds");
    assert!(
        stop > DRAIN_SECS + 5.0,
        "TimeoutStopSec={stop} must outlast the drain"
    );
    let db = unit_values("Environment")
        .into_iter()
        .find_map(|e| e.strip_prefix("QUORUM_DATABASE_URL="))
        .expect("the unit names the database");
    assert!(
        db.starts_with("sqlite:///var/lib/quorum/"),
        "the database lives in the state directory: {db}"
    );
}

#[test]
fn the_example_environment_file_names_every_variable_the_code_reads_with_a_comment() {
    let lines: Vec<&str> = ENV_FILE.lines().collect();
    let mut listed = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start_matches('#');
        let Some((name, _)) = body.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        let comment = i
            .checked_sub(1)
            .and_then(|p| lines.get(p))
            .is_some_and(|p| p.starts_with("# ") && !p.contains('='));
        assert!(comment, "{name} has no comment line above it");
        listed.push(name.to_string());
    }
    let mut want: Vec<String> = quorum::config::ENV_OVERRIDES
        .iter()
        .chain(quorum::config::SECRETS)
        .chain(quorum::config::LOG_VARIABLES)
        .map(|s| s.to_string())
        .collect();
    want.sort_unstable();
    listed.sort_unstable();
    assert_eq!(listed, want);
    for secret in quorum::config::SECRETS {
        assert!(
            ENV_FILE.contains(&format!("\n#{secret}=\n")),
            "{secret} has no value in the example"
        );
    }
}

#[test]
fn the_site_proxies_only_the_public_paths_and_keeps_metrics_private() {
    let proxied: Vec<&str> = SITE
        .split("location ")
        .skip(1)
        .filter(|block| block.split('}').next().unwrap_or("").contains("proxy_pass"))
        .map(|block| block.split('{').next().unwrap_or("").trim())
        .collect();
    assert_eq!(
        proxied,
        [
            "/discord/",
            "/slack/",
            "/calendar/",
            "= /dashboard",
            "= /dashboard/login",
            "/dashboard/"
        ]
    );
    assert!(
        !SITE.contains("location /metrics"),
        "/metrics is never proxied"
    );
    assert!(SITE.contains("listen 443 ssl;"));
}

/// Fail loudly when CI forgot a tool.
fn tool(name: &str) -> String {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.display().to_string();
        }
    }
    panic!("{name} is not installed (on Debian: apt-get install systemd nginx openssl)");
}

#[test]
#[ignore = "needs systemd-analyze (Debian's systemd package)"]
fn systemd_analyze_verifies_the_unit_without_a_word() {
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's binary exists: point it at the one built.
    let unit = UNIT.replace("/usr/local/bin/quorum", env!("CARGO_BIN_EXE_quorum"));
    let path = dir.path().join("quorum.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new(tool("systemd-analyze"))
        .arg("verify")
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("run systemd-analyze");
    let err = String::from_utf8_lossy(&out.stderr);
    // verify exits 0 on an unknown key or a bad value, but says so.
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

/// The site with its certificate paths and ports pointed into `dir`, inside
/// a minimal nginx.conf that writes nothing outside `dir`.
fn site_in(dir: &Path, http: u16, https: u16, upstream: u16) -> std::path::PathBuf {
    let openssl = Command::new(tool("openssl"))
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=quorum.example.com", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(openssl.status.success(), "{openssl:?}");
    let live = "/etc/letsencrypt/live/quorum.example.com";
    let site = SITE
        .replace(
            &format!("{live}/fullchain.pem"),
            &dir.join("cert.pem").display().to_string(),
        )
        .replace(
            &format!("{live}/privkey.pem"),
            &dir.join("key.pem").display().to_string(),
        )
        .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace("listen [::]:80;", "")
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{https} ssl;"))
        .replace("listen [::]:443 ssl;", "")
        .replace(
            "server 127.0.0.1:8080;",
            &format!("server 127.0.0.1:{upstream};"),
        );
    assert!(
        !site.contains("/etc/letsencrypt"),
        "every certificate path replaced"
    );
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let conf = format!(
        "pid {d}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         include {d}/site.conf;\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn nginx(conf: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(tool("nginx"));
    cmd.arg("-e")
        .arg("stderr")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf);
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
#[ignore = "needs nginx and openssl (Debian's packages)"]
fn nginx_accepts_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let conf = site_in(dir.path(), 8080, 8443, 8081);
    let out = nginx(&conf, dir.path())
        .arg("-t")
        .output()
        .expect("run nginx -t");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("test is successful"), "{err}");
    assert!(!err.contains("[warn]"), "{err}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx and openssl (Debian's packages)"]
async fn nginx_passes_the_chat_paths_and_answers_404_for_metrics() {
    // The upstream: answers every request with its own path, so a response
    // says whether nginx passed it on.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    let app = axum::Router::new()
        .fallback(|uri: axum::http::Uri| async move { format!("upstream saw {uri}") });
    tokio::spawn(async move { axum::serve(upstream, app).await });
    let dir = tempfile::tempdir().unwrap();
    let (http, https) = (free_port(), free_port());
    let conf = site_in(dir.path(), http, https, upstream_port);
    let _server = Nginx(
        nginx(&conf, dir.path())
            .args(["-g", "daemon off;"])
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx"),
    );
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{https}");
    let end = Instant::now() + Duration::from_secs(10);
    while client.get(format!("{base}/slack/x")).send().await.is_err() {
        assert!(Instant::now() < end, "nginx did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for path in [
        "/discord/interactions",
        "/slack/commands",
        "/calendar/feed.ics",
        "/dashboard",
        "/dashboard/login?token=abc",
        "/dashboard/x",
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), format!("upstream saw {path}"));
    }
    for path in [
        "/metrics",
        "/healthz",
        "/readyz",
        "/",
        "/dashboardx",
        "/metrics/x",
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path} must stay private");
    }
    let r = client
        .get(format!("http://127.0.0.1:{http}/slack/commands"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301, "plain HTTP is sent to HTTPS");
}

/// nginx in the foreground, stopped however the test ends.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (QUORUM_TEST_POSTGRES_URL)"]
async fn the_postgres_setup_script_makes_a_role_that_owns_its_database_and_reruns() {
    use sqlx::Connection as _;
    let admin = std::env::var("QUORUM_TEST_POSTGRES_URL").expect("QUORUM_TEST_POSTGRES_URL");
    let url = reqwest::Url::parse(&admin).expect("a postgres url");
    let name = format!("quorum_setup_{}", std::process::id());
    let password = "it's a $secret \"with\" quotes";
    let run = |pw: &str| {
        Command::new("sh")
            .arg(SETUP)
            .env("PGHOST", url.host_str().unwrap_or("127.0.0.1"))
            .env("PGPORT", url.port().unwrap_or(5432).to_string())
            .env("PGUSER", url.username())
            .env("PGPASSWORD", url.password().unwrap_or(""))
            .env("QUORUM_DB_ROLE", &name)
            .env("QUORUM_DB_NAME", &name)
            .env("QUORUM_DB_PASSWORD", pw)
            .stdin(Stdio::null())
            .output()
            .expect("run the setup script")
    };
    let refused = run("");
    assert_eq!(refused.status.code(), Some(2), "no password: {refused:?}");
    for _ in 0..2 {
        let out = run(password);
        assert!(out.status.success(), "{out:?}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"));
    }
    let mut own = url.clone();
    own.set_username(&name).unwrap();
    own.set_password(Some(password)).unwrap();
    own.set_path(&name);
    let store = quorum::store::Store::connect(own.as_str()).await;
    let connected = store.is_ok();
    drop(store);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("DROP ROLE IF EXISTS {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(connected, "Quorum migrates its database as the new role");
}
