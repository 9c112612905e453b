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
    },
    /// Work with cadences.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCmd,
    },
    /// Validate the configuration and exit.
    CheckConfig,
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUORUM_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
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
        Some(Cmd::Console { user, exit_on_eof }) => run_console(cli.config, user, exit_on_eof),
        None => run_console(cli.config, "console".to_string(), false),
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

fn run_console(config: Option<PathBuf>, user: String, exit_on_eof: bool) -> ExitCode {
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async move {
        let (app, scheduler) = quorum::start(config, Arc::new(ConsoleChat)).await?;
        console::run(app, scheduler, user, exit_on_eof).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, format!("{e:#}")),
    }
}
