//! The `quorum` command line: wiring only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use quorum::chat::console::{self, ConsoleChat};
use quorum::config::Config;
use quorum::domain::recurrence::Cadence;
use quorum::domain::zone::Zone;

#[derive(Parser)]
#[command(
    name = "quorum",
    version,
    about = "Runs an executive team's meetings, decisions and escalations from chat"
)]
struct Cli {
    /// Config file (default: quorum.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log lines on standard error as `text` (coloured only on a terminal) or
    /// `json` (one object a line, for journald and log shippers).
    #[arg(long, global = true, env = "QUORUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Use Quorum from the terminal: one command per line on standard input.
    Console {
        /// The user you act as.
        #[arg(long = "as", value_name = "USER", default_value = "console")]
        user: String,
        /// Exit when standard input ends (by default the scheduler keeps running).
        #[arg(long)]
        exit_on_eof: bool,
        /// Also serve the web pages (the dashboard, the calendar feeds,
        /// /healthz, /readyz, /metrics) at `[http] listen`.
        #[arg(long)]
        serve: bool,
    },
    /// Work with cadences.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCmd,
    },
    /// Run Quorum as a service: the Discord gateway, the HTTP server (Discord's
    /// interactions endpoint, Slack's endpoints, /healthz) and the scheduler,
    /// posting to Discord and/or Slack.
    Run,
    /// Discord application commands: print them, or register them.
    Discord {
        #[command(subcommand)]
        command: DiscordCmd,
    },
    /// Validate the configuration and exit.
    CheckConfig,
    /// Export records as a document.
    Export {
        #[command(subcommand)]
        what: ExportCmd,
    },
    /// Write the board pack of a quarter or a month: decisions and approvals,
    /// escalations and their outcomes, action items per owner, meetings held
    /// and skipped, and the risk register.
    Report {
        /// A quarter such as 2026Q4, or a month such as 2026-11.
        #[arg(long)]
        period: String,
        /// md, html or pdf (pdf: the html printed by headless Chromium; needs --out).
        #[arg(long, default_value = "md")]
        format: String,
        /// Workspace (a Discord guild id, a Slack team id, or `console`).
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The Chromium that prints the PDF.
        #[arg(long, value_name = "PATH", default_value = quorum::report::DEFAULT_CHROMIUM)]
        chromium: PathBuf,
    },
    /// Keep a TODO.md file and Quorum's action items in step.
    Todo {
        #[command(subcommand)]
        command: TodoCmd,
    },
    /// Write a consistent copy of the SQLite database, also while Quorum runs
    /// (for PostgreSQL, use pg_dump).
    Backup {
        /// The copy to write; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace the SQLite database with a backup. Refused while an instance
    /// uses the database, and without --force when the database exists.
    Restore {
        /// A file written by `quorum backup`.
        file: PathBuf,
        /// Replace the existing database (its contents are lost).
        #[arg(long)]
        force: bool,
    },
    /// Load a file written by `quorum export all` into the configured
    /// database, which must be new and empty (e.g. to move from SQLite to
    /// PostgreSQL). All or nothing.
    Import {
        /// The export file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum DiscordCmd {
    /// Print the application commands as JSON (what `register` sends).
    Commands,
    /// Register the commands with Discord (needs DISCORD_TOKEN and DISCORD_APPLICATION_ID
    /// or discord.application_id; per guild with discord.dev_guild or --guild).
    Register {
        #[arg(long)]
        guild: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Everything, every workspace, with ids and history (for `quorum import`).
    All {
        /// json (the only format of a whole installation).
        #[arg(long, default_value = "json")]
        format: String,
        /// Write to this new file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The decision log (oldest first).
    Decisions {
        /// md, csv or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Only decisions recorded on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Workspace (a Discord guild id, a Slack team id, or `console`).
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The minutes of a meeting series' past occurrences (latest first).
    Minutes {
        /// The series id, as shown by /meeting list.
        #[arg(long)]
        series: i64,
        /// md or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Workspace (a Discord guild id, a Slack team id, or `console`).
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TodoCmd {
    /// Write action items as TODO.md (sections by priority).
    Export {
        /// Only this owner's items (e.g. cto); a file kept for one owner stays so without it.
        #[arg(long)]
        owner: Option<String>,
        /// Write to this file instead of standard output (and keep its baseline for sync).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite edits in the --out file that Quorum has not seen yet.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
    },
    /// Apply what a person changed in TODO.md (ticks, unticks, edits, new lines).
    Import {
        file: PathBuf,
        /// Owner of new lines that name none.
        #[arg(long)]
        owner: Option<String>,
        /// Who makes the changes (recorded in the audit trail).
        #[arg(long = "as", default_value = "todo.md")]
        user: String,
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
    },
    /// Import, then export, reporting items changed on both sides since the last sync.
    Sync {
        file: PathBuf,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long = "as", default_value = "todo.md")]
        user: String,
        #[arg(long, default_value = quorum::CONSOLE_WORKSPACE)]
        workspace: String,
    },
}

#[derive(Subcommand)]
enum ScheduleCmd {
    /// Print the next occurrences of a cadence, one RFC 3339 time per line.
    Preview {
        /// e.g. "weekly on monday at 10:00" or "cron:0 9 * * 1-5".
        #[arg(long)]
        cadence: String,
        /// IANA time zone, e.g. Europe/Madrid.
        #[arg(long)]
        tz: String,
        /// Occurrences strictly after this RFC 3339 time (default: now).
        #[arg(long)]
        from: Option<String>,
        /// How many occurrences.
        #[arg(long, default_value_t = 10)]
        count: usize,
    },
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("quorum: {message}");
    ExitCode::from(code)
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUORUM_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colour codes only for a person at a terminal, never into a file
        // or the journal.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // Each line one JSON object with the event's fields and the fields
        // of every span it is in (workspace, command, ids).
        LogFormat::Json => logs
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Some(Cmd::Schedule {
            command:
                ScheduleCmd::Preview {
                    cadence,
                    tz,
                    from,
                    count,
                },
        }) => preview(&cadence, &tz, from.as_deref(), count),
        Some(Cmd::CheckConfig) => match Config::load(cli.config.as_deref()) {
            Ok(c) => {
                for warning in c.warnings() {
                    eprintln!("warning: {warning}");
                }
                println!(
                    "config ok: database {}, {} executives, {} series",
                    c.database_url,
                    c.org.roles().count(),
                    c.series.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, e),
        },
        Some(Cmd::Console {
            user,
            exit_on_eof,
            serve,
        }) => run_console(cli.config, user, exit_on_eof, serve),
        Some(Cmd::Run) => run_service(cli.config),
        Some(Cmd::Discord { command }) => discord(cli.config, command),
        Some(Cmd::Export {
            what: ExportCmd::All { format, out },
        }) => export_all(cli.config, &format, out.as_deref()),
        Some(Cmd::Import { file }) => import(cli.config, &file),
        Some(Cmd::Export { what }) => with_store(cli.config, |config, store| {
            Box::pin(export(config, store, what))
        }),
        Some(Cmd::Report {
            period,
            format,
            workspace,
            out,
            chromium,
        }) => {
            let period: quorum::domain::period::Period = match period.parse() {
                Ok(p) => p,
                Err(e) => return fail(2, format!("--period: {e}")),
            };
            let format = match format.trim().to_lowercase().as_str() {
                f @ ("md" | "html" | "pdf") => f.to_string(),
                other => {
                    return fail(
                        2,
                        format!("--format: `{other}` is not a format; use md, html or pdf"),
                    );
                }
            };
            if format == "pdf" {
                if out.is_none() {
                    return fail(
                        2,
                        "--format pdf needs --out FILE (a PDF is not written to the terminal)",
                    );
                }
                if !chromium.is_file() {
                    return fail(
                        2,
                        quorum::report::PdfError::NoChromium(chromium.display().to_string()),
                    );
                }
            }
            with_store(cli.config, move |config, store| {
                Box::pin(report(
                    config, store, period, format, workspace, out, chromium,
                ))
            })
        }
        Some(Cmd::Todo { command }) => with_store(cli.config, |config, store| {
            Box::pin(todo(config, store, command))
        }),
        Some(Cmd::Backup { out }) => backup(cli.config, &out),
        Some(Cmd::Restore { file, force }) => restore(cli.config, &file, force),
        None if secret("DISCORD_TOKEN").is_some() || secret("SLACK_BOT_TOKEN").is_some() => {
            run_service(cli.config)
        }
        None => run_console(cli.config, "console".to_string(), false, false),
    }
}

fn preview(cadence: &str, tz: &str, from: Option<&str>, count: usize) -> ExitCode {
    let cadence: Cadence = match cadence.parse() {
        Ok(c) => c,
        Err(e) => return fail(2, format!("--cadence: {e}")),
    };
    let zone: Zone = match tz.parse() {
        Ok(z) => z,
        Err(e) => return fail(2, format!("--tz: {e}")),
    };
    let from: DateTime<Utc> = match from {
        None => Utc::now(),
        Some(f) => match DateTime::parse_from_rfc3339(f) {
            Ok(d) => d.with_timezone(&Utc),
            Err(_) => {
                return fail(
                    2,
                    format!(
                        "--from: `{f}` is not an RFC 3339 time such as 2026-03-30T10:00:00+02:00"
                    ),
                );
            }
        },
    };
    let anchor = zone.local(from).date();
    let mut out = String::new();
    for at in cadence.occurrences_after(zone, anchor, from).take(count) {
        out.push_str(&at.to_rfc3339());
        out.push('\n');
    }
    print!("{out}");
    ExitCode::SUCCESS
}

/// The console's one line at start: what it is, its database (password
/// hidden), who is typing, and where to begin.
fn console_banner(database_url: &str, user: &str) -> String {
    format!(
        "Quorum console (executive-team meetings, decisions, actions, escalations) on {}, as {user}; type /help",
        quorum::store::redact(database_url)
    )
}

fn run_console(config: Option<PathBuf>, user: String, exit_on_eof: bool, serve: bool) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    // One writer per SQLite file, held until the process exits.
    let _lock = match quorum::store::lock::acquire(&config.database_url, "quorum console") {
        Ok(l) => l,
        Err(e) => return fail(1, e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    let mut banner = console_banner(&config.database_url, &user);
    let listen = config.http_listen.clone();
    if serve {
        banner.push_str(&format!("; web pages at http://{listen}"));
    }
    let result = runtime.block_on(async move {
        // Listen before starting: a SIGTERM during start-up stops cleanly.
        let shutdown = console::shutdown_signal();
        tokio::pin!(shutdown);
        let (mut app, scheduler) = tokio::select! {
            started = quorum::start(config, Arc::new(ConsoleChat)) => started?,
            _ = &mut shutdown => return Ok(()),
        };
        app.serves_web = serve;
        let server = if serve {
            // Bound before the banner, so a port in use is a clear failure
            // at start, not a link that leads nowhere.
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot serve web pages on {listen}: {e}"))?;
            let state = quorum::http::HttpState {
                app: app.clone(),
                discord_key: None,
                slack_secret: None,
                slack_web: None,
            };
            Some(tokio::spawn(quorum::http::serve_on(listener, state)))
        } else {
            None
        };
        println!("{banner}");
        let result = console::run(app, scheduler, user, exit_on_eof, shutdown).await;
        if let Some(server) = server {
            server.abort();
        }
        result
    });
    // A read of standard input may still be blocked in its thread: do not
    // wait for it (the scheduler has already finished its work).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, format!("{e:#}")),
    }
}

type Job<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), quorum::error::Error>> + 'a>>;

/// Run a one-shot command against the configured store: user errors exit 2,
/// anything else 1.
fn with_store(
    config: Option<PathBuf>,
    job: impl for<'a> FnOnce(&'a Config, &'a quorum::store::Store) -> Job<'a>,
) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let store = match quorum::store::Store::connect(&config.database_url).await {
            Ok(s) => s,
            Err(e) => return fail(1, format!("{e:#}")),
        };
        match job(&config, &store).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(quorum::error::Error::User(msg)) => fail(2, msg),
            Err(quorum::error::Error::Internal(e)) => fail(1, format!("{e:#}")),
        }
    })
}

fn write_out(out: Option<&PathBuf>, text: &str) -> Result<(), quorum::error::Error> {
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            quorum::error::Error::user(format!("cannot write {}: {e}", path.display()))
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn read_in(path: &PathBuf) -> Result<String, quorum::error::Error> {
    std::fs::read_to_string(path)
        .map_err(|e| quorum::error::Error::user(format!("cannot read {}: {e}", path.display())))
}

async fn export(
    config: &Config,
    store: &quorum::store::Store,
    what: ExportCmd,
) -> Result<(), quorum::error::Error> {
    let (format, since, workspace, out) = match what {
        ExportCmd::Decisions {
            format,
            since,
            workspace,
            out,
        } => (format, since, workspace, out),
        ExportCmd::Minutes {
            series,
            format,
            workspace,
            out,
        } => {
            let meetings = quorum::service::meetings::Meetings {
                store: store.clone(),
                holidays: std::sync::Arc::new(config.holidays.clone()),
            };
            let text = meetings
                .export_minutes(config, &workspace, series, &format, chrono::Utc::now())
                .await?;
            return write_out(out.as_ref(), &text);
        }
        ExportCmd::All { .. } => {
            return Err(quorum::error::Error::user(
                "quorum export all is handled on its own",
            ));
        }
    };
    let format: quorum::service::decisions::ExportFormat = format
        .parse()
        .map_err(|e: String| quorum::error::Error::user(format!("--format: {e}")))?;
    let since = match since {
        None => None,
        Some(s) => Some(
            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
                quorum::error::Error::user(format!(
                    "--since: `{s}` is not a date; use YYYY-MM-DD such as 2026-01-01"
                ))
            })?,
        ),
    };
    let decisions = quorum::service::decisions::Decisions {
        store: store.clone(),
    };
    let text = decisions.export(config, &workspace, since, format).await?;
    write_out(out.as_ref(), &text)
}

async fn report(
    config: &Config,
    store: &quorum::store::Store,
    period: quorum::domain::period::Period,
    format: String,
    workspace: String,
    out: Option<PathBuf>,
    chromium: PathBuf,
) -> Result<(), quorum::error::Error> {
    let report =
        quorum::service::report::gather(store, config, &workspace, period, Utc::now()).await?;
    match format.as_str() {
        "md" => write_out(out.as_ref(), &quorum::report::markdown(config, &report)),
        "html" => write_out(out.as_ref(), &quorum::report::html(config, &report)),
        _ => {
            let html = quorum::report::html(config, &report);
            let Some(out) = out else {
                return Err(quorum::error::Error::user("--format pdf needs --out FILE"));
            };
            tokio::task::spawn_blocking(move || quorum::report::print_pdf(&chromium, &html, &out))
                .await
                .map_err(|e| anyhow::anyhow!("printing the PDF: {e}"))?
                .map_err(|e| quorum::error::Error::user(e.to_string()))
        }
    }
}

async fn todo(
    config: &Config,
    store: &quorum::store::Store,
    command: TodoCmd,
) -> Result<(), quorum::error::Error> {
    let todo = quorum::service::todo::Todo { store, config };
    let actor = |workspace: &str, user: &str| quorum::service::meetings::Actor {
        workspace: workspace.to_string(),
        user: user.to_string(),
        channel: None,
        platform_roles: Vec::new(),
    };
    let owner_of = |o: Option<String>| -> Result<Option<String>, quorum::error::Error> {
        o.map(|o| {
            o.parse::<quorum::domain::action::Owner>()
                .map(|o| o.to_string())
                .map_err(|e| quorum::error::Error::user(format!("--owner: {e}")))
        })
        .transpose()
    };
    match command {
        TodoCmd::Export {
            owner,
            out,
            force,
            workspace,
        } => {
            let owner = owner_of(owner)?;
            let Some(file) = out else {
                let text = todo.export(&workspace, owner.as_deref()).await?;
                return write_out(None, &text);
            };
            let current = if file.exists() {
                Some(read_in(&file)?)
            } else {
                None
            };
            let text = todo
                .export_to(
                    &workspace,
                    &file_key(&file),
                    current.as_deref(),
                    owner.as_deref(),
                    force,
                )
                .await
                .map_err(|e| in_file(e, &file))?;
            write_out(Some(&file), &text)
        }
        TodoCmd::Import {
            file,
            owner,
            user,
            workspace,
        } => {
            let text = read_in(&file)?;
            let (new_text, report) = todo
                .import(
                    &actor(&workspace, &user),
                    &file_key(&file),
                    &text,
                    owner_of(owner)?.as_deref(),
                    Utc::now(),
                )
                .await
                .map_err(|e| in_file(e, &file))?;
            if new_text != text {
                write_out(Some(&file), &new_text)?;
            }
            println!("{}: {report}", file.display());
            conflicts_left(&report, &file)
        }
        TodoCmd::Sync {
            file,
            owner,
            user,
            workspace,
        } => {
            let text = if file.exists() {
                read_in(&file)?
            } else {
                String::new()
            };
            let (new_text, report) = todo
                .sync(
                    &actor(&workspace, &user),
                    &file_key(&file),
                    &text,
                    owner_of(owner)?.as_deref(),
                    Utc::now(),
                )
                .await
                .map_err(|e| in_file(e, &file))?;
            write_out(Some(&file), &new_text)?;
            println!("{}: {report}", file.display());
            conflicts_left(&report, &file)
        }
    }
}

/// The key a TODO.md file's baseline is kept under: its absolute path.
fn file_key(file: &std::path::Path) -> String {
    std::path::absolute(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// Name the file in a user error that speaks of "the file".
fn in_file(e: quorum::error::Error, file: &std::path::Path) -> quorum::error::Error {
    match e {
        quorum::error::Error::User(m) if m.starts_with("the file") => {
            quorum::error::Error::user(format!("{}{}", file.display(), &m["the file".len()..]))
        }
        e => e,
    }
}

/// Exit non-zero while conflicts are left to resolve.
fn conflicts_left(
    report: &quorum::service::todo::TodoReport,
    file: &std::path::Path,
) -> Result<(), quorum::error::Error> {
    if report.conflicts.is_empty() {
        Ok(())
    } else {
        Err(quorum::error::Error::user(format!(
            "{} conflict(s) to resolve in {}",
            report.conflicts.len(),
            file.display()
        )))
    }
}

fn secret(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// How long `quorum run` takes at most to stop after SIGTERM.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_millis(8500);

fn run_service(config: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let _lock = match quorum::store::lock::acquire(&config.database_url, "quorum run") {
        Ok(l) => l,
        Err(e) => return fail(1, e),
    };
    let discord_token = secret("DISCORD_TOKEN");
    let slack_token = secret("SLACK_BOT_TOKEN");
    if discord_token.is_none() && slack_token.is_none() {
        return fail(
            2,
            "quorum run needs DISCORD_TOKEN (with DISCORD_PUBLIC_KEY for the interactions endpoint) or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; to try Quorum without a token, use `quorum console`",
        );
    }
    let key = match secret("DISCORD_PUBLIC_KEY").map(|k| quorum::http::parse_public_key(&k)) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => return fail(2, e),
    };
    let slack_secret = secret("SLACK_SIGNING_SECRET");
    if slack_token.is_some() && slack_secret.is_none() {
        return fail(
            2,
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: Quorum cannot check Slack's requests without it",
        );
    }
    let discord = match &discord_token {
        None => None,
        Some(t) => match quorum::chat::discord::DiscordChat::new(
            &config.discord.api_base,
            t,
            config.discord.channels.clone(),
        ) {
            Ok(c) => Some(c.with_guilds(config.discord.guilds.clone())),
            Err(e) => return fail(1, format!("cannot build the Discord client: {e}")),
        },
    };
    let slack = match &slack_token {
        None => None,
        Some(t) => match quorum::chat::slack::SlackChat::new(
            &config.slack.api_base,
            t,
            config.slack.channels.clone(),
        ) {
            Ok(c) => Some(c),
            Err(e) => return fail(1, format!("cannot build the Slack client: {e}")),
        },
    };
    // Its own client for the forms buttons open (the sender paces posts).
    let slack_web = match &slack_token {
        None => None,
        Some(t) => match quorum::chat::slack::SlackChat::new(
            &config.slack.api_base,
            t,
            config.slack.channels.clone(),
        ) {
            Ok(c) => Some(std::sync::Arc::new(c)),
            Err(e) => return fail(1, format!("cannot build the Slack client: {e}")),
        },
    };
    let chat = quorum::chat::Platforms { discord, slack };
    let token = discord_token.unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    let listen = config.http_listen.clone();
    let gateway = config.discord.gateway && !token.is_empty();
    let shards = config.discord.shards;
    let lease = config
        .lease
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(60));
    let result = runtime.block_on(async move {
        // Listen before starting: a SIGTERM during start-up stops cleanly.
        let shutdown = console::shutdown_signal();
        tokio::pin!(shutdown);
        let (app, scheduler) = tokio::select! {
            started = quorum::start(config, Arc::new(chat)) => started?,
            _ = &mut shutdown => {
                tracing::info!("stopped during start-up");
                return Ok(());
            }
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let sched = scheduler.clone();
        let mut rx = stop_rx.clone();
        let loop_handle = tokio::spawn(async move {
            sched
                .run(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
        });
        let mut gateways = Vec::new();
        if gateway {
            // Each shard is connected by one instance at a time: whoever
            // holds its lease; the others stand by to take over.
            let holder = quorum::leader::holder_id();
            for shard in 0..shards {
                let (app, token) = (app.clone(), token.clone());
                gateways.push(tokio::spawn(quorum::leader::hold(
                    app.store.clone(),
                    format!("discord-gateway/{shard}/{shards}"),
                    holder.clone(),
                    lease,
                    stop_rx.clone(),
                    move |quit| {
                        let (app, token) = (app.clone(), token.clone());
                        async move {
                            quorum::chat::gateway::run(&token, app, shard, shards, quit).await
                        }
                    },
                )));
            }
        }
        let mut rx = stop_rx.clone();
        let state = quorum::http::HttpState {
            app,
            discord_key: key,
            slack_secret,
            slack_web,
        };
        let server = quorum::http::serve(state, &listen, async move {
            let _ = rx.wait_for(|s| *s).await;
        });
        tokio::pin!(server);
        let result = tokio::select! {
            r = &mut server => r,
            _ = &mut shutdown => Ok(()),
        };
        // Stopping: every part gets until one deadline, whatever its state
        // (gateway connecting, database down, requests or posts in flight);
        // systemd's TimeoutStopSec is above it.
        tracing::info!("shutting down: finishing in-flight work");
        let _ = stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + STOP_WITHIN;
        if tokio::time::timeout_at(deadline, &mut server)
            .await
            .is_err()
        {
            tracing::warn!("HTTP requests still in flight at the stop deadline; dropping them");
        }
        if tokio::time::timeout_at(deadline, loop_handle)
            .await
            .is_err()
        {
            tracing::warn!(
                "posts still in flight at the stop deadline; their claims lapse and are retried"
            );
        }
        for g in gateways {
            if tokio::time::timeout_at(deadline, g).await.is_err() {
                tracing::warn!(
                    "the Discord gateway did not close by the stop deadline; dropping it"
                );
            }
        }
        result
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(300));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, format!("{e:#}")),
    }
}

fn discord(config: Option<PathBuf>, command: DiscordCmd) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let commands = quorum::chat::discord::application_commands(&config.categories);
    match command {
        DiscordCmd::Commands => {
            println!(
                "{}",
                serde_json::to_string_pretty(&commands).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        DiscordCmd::Register { guild } => {
            let Some(token) = secret("DISCORD_TOKEN") else {
                return fail(2, "discord register needs DISCORD_TOKEN");
            };
            let Some(app_id) =
                secret("DISCORD_APPLICATION_ID").or(config.discord.application_id.clone())
            else {
                return fail(
                    2,
                    "discord register needs DISCORD_APPLICATION_ID or discord.application_id",
                );
            };
            let guild = guild.or(config.discord.dev_guild.clone());
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
            };
            match runtime.block_on(quorum::chat::discord::register(
                &config.discord.api_base,
                &token,
                &app_id,
                guild.as_deref(),
                &commands,
            )) {
                Ok(n) => {
                    println!(
                        "registered {n} commands {}",
                        guild
                            .map(|g| format!("in guild {g}"))
                            .unwrap_or_else(|| "globally".into())
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(1, format!("{e:#}")),
            }
        }
    }
}

/// The SQLite file of the configured database, or the one line that says
/// what to use instead.
fn sqlite_file(config: &Config, pg_tool: &str) -> Result<PathBuf, ExitCode> {
    if !config.database_url.starts_with("sqlite:") {
        return Err(fail(
            2,
            format!(
                "the database is PostgreSQL: use {pg_tool} (quorum backup and restore handle SQLite files)"
            ),
        ));
    }
    match quorum::store::lock::lock_path_of(&config.database_url) {
        Some(lock) => Ok(lock.with_extension("")),
        None => Err(fail(
            2,
            "the database is in memory: there is no file to back up or restore",
        )),
    }
}

fn current_thread() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(1, format!("cannot start the async runtime: {e}")))
}

fn backup(config: Option<PathBuf>, out: &std::path::Path) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let db = match sqlite_file(
        &config,
        "pg_dump (e.g. pg_dump --format=custom --file=quorum.dump \"$QUORUM_DATABASE_URL\")",
    ) {
        Ok(db) => db,
        Err(code) => return code,
    };
    if out.exists() {
        return fail(
            2,
            format!("{} exists; choose a new file for the backup", out.display()),
        );
    }
    if !db.exists() {
        return fail(
            2,
            format!("there is no database at {} to back up", db.display()),
        );
    }
    let runtime = match current_thread() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let result = async {
            let store = quorum::store::Store::connect(&config.database_url).await?;
            store.backup_to(out).await?;
            store.close().await;
            let copy =
                quorum::store::Store::connect(&format!("sqlite://{}", out.display())).await?;
            let check = copy.integrity().await?;
            copy.close().await;
            anyhow::ensure!(
                check == "ok",
                "the backup failed its integrity check: {check}"
            );
            anyhow::Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
                println!(
                    "backup of {} written to {} ({size} bytes)",
                    db.display(),
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = std::fs::remove_file(out);
                fail(1, format!("{e:#}"))
            }
        }
    })
}

fn restore(config: Option<PathBuf>, file: &std::path::Path, force: bool) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let db = match sqlite_file(&config, "pg_restore") {
        Ok(db) => db,
        Err(code) => return code,
    };
    if !file.is_file() {
        return fail(2, format!("{} is not a file", file.display()));
    }
    // Held until the restore is done: no instance starts on a half-restored file.
    let _lock = match quorum::store::lock::acquire(&config.database_url, "quorum restore") {
        Ok(l) => l,
        Err(e) => return fail(1, e),
    };
    if db.exists() && !force {
        return fail(
            2,
            format!(
                "{} exists; add --force to replace it with {} (what it holds now is lost)",
                db.display(),
                file.display()
            ),
        );
    }
    let mut staged = db.clone().into_os_string();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    let runtime = match current_thread() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        use anyhow::Context as _;
        let _ = std::fs::remove_file(&staged);
        std::fs::copy(file, &staged)
            .with_context(|| format!("copying {} beside the database", file.display()))?;
        // Check the copy and bring its schema up to this version.
        let store = quorum::store::Store::connect(&format!("sqlite://{}", staged.display()))
            .await
            .with_context(|| format!("{} is not a Quorum database", file.display()))?;
        let check = store.integrity().await?;
        store.checkpoint().await?;
        store.close().await;
        anyhow::ensure!(
            check == "ok",
            "{} failed its integrity check: {check}",
            file.display()
        );
        for side in ["-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(side);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", p.to_string_lossy()));
                }
                _ => {}
            }
        }
        std::fs::rename(&staged, &db)
            .with_context(|| format!("moving the restored database to {}", db.display()))?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => {
            println!("restored {} from {}", db.display(), file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            fail(1, format!("{e:#}"))
        }
    }
}

/// The one line of an export or import that failed: a refusal (exit 2) or a
/// fault (exit 1).
fn transfer_failed(e: &anyhow::Error) -> ExitCode {
    match e.downcast_ref::<quorum::store::transfer::Refused>() {
        Some(r) => fail(2, r),
        None => fail(1, format!("{e:#}")),
    }
}

/// `quorum export all`: every table of the configured database, streamed to
/// a new file (written beside it, then renamed) or to standard output.
fn export_all(config: Option<PathBuf>, format: &str, out: Option<&std::path::Path>) -> ExitCode {
    if format != "json" {
        return fail(
            2,
            format!("--format: `{format}` is not a format of quorum export all; use json"),
        );
    }
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    if let Some(out) = out {
        if out.exists() {
            return fail(
                2,
                format!("{} exists; choose a new file for the export", out.display()),
            );
        }
    }
    let runtime = match current_thread() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let staged = out.map(|o| {
        let mut p = o.to_path_buf().into_os_string();
        p.push(".partial");
        PathBuf::from(p)
    });
    let result = runtime.block_on(async {
        use anyhow::Context as _;
        let store = quorum::store::Store::connect(&config.database_url).await?;
        let summary = match &staged {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut writer = std::io::BufWriter::new(file);
                let summary = store.export_all(&mut writer, chrono::Utc::now()).await?;
                writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .with_context(|| format!("writing {}", path.display()))?;
                summary
            }
            None => {
                let mut writer = std::io::BufWriter::new(std::io::stdout());
                store.export_all(&mut writer, chrono::Utc::now()).await?
            }
        };
        store.close().await;
        if let (Some(staged), Some(out)) = (&staged, out) {
            std::fs::rename(staged, out)
                .with_context(|| format!("moving the export to {}", out.display()))?;
        }
        anyhow::Ok(summary)
    });
    match (result, out) {
        (Ok(summary), Some(out)) => {
            println!(
                "exported {} rows of {} tables to {}",
                summary.rows(),
                summary.tables.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        (Ok(_), None) => ExitCode::SUCCESS,
        (Err(e), _) => {
            if let Some(staged) = &staged {
                let _ = std::fs::remove_file(staged);
            }
            transfer_failed(&e)
        }
    }
}

/// `quorum import FILE`: load an export into the configured database, which
/// must hold no data (a SQLite file is created if missing). Refused while an
/// instance uses the SQLite file.
fn import(config: Option<PathBuf>, file: &std::path::Path) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let input = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) => return fail(2, format!("cannot read {}: {e}", file.display())),
    };
    let _lock = match quorum::store::lock::acquire(&config.database_url, "quorum import") {
        Ok(l) => l,
        Err(e) => return fail(1, e),
    };
    let runtime = match current_thread() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let store = quorum::store::Store::connect(&config.database_url).await?;
        let summary = store.import_all(Box::new(input)).await;
        store.close().await;
        summary
    });
    match result {
        Ok(summary) => {
            println!(
                "imported {} rows of {} tables from {} into {}",
                summary.rows(),
                summary.tables.len(),
                file.display(),
                quorum::store::redact(&config.database_url)
            );
            ExitCode::SUCCESS
        }
        Err(e) => transfer_failed(&e),
    }
}
