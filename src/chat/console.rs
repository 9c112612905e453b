//! The console adapter's sink: every message Quorum posts is one line,
//! `[#channel] text`, on standard output.

use std::io::Write as _;

use super::{Body, Chat, Outgoing, ReminderView, SendError};
use crate::domain::meeting::humanize_lead;

#[derive(Debug, Default, Clone)]
pub struct ConsoleChat;

/// One line of plain text for a message.
pub fn render(message: &Outgoing) -> String {
    let text = match &message.body {
        Body::Notice(text) => text.replace('\n', " "),
        // A reminder names its attendees itself.
        Body::Reminder(r) => return render_reminder(r),
    };
    // The console's own identities: chat users that are not another
    // platform's ids (Discord snowflakes and roles, Slack ids).
    let pings: Vec<String> = message
        .mention
        .iter()
        .filter(|m| {
            !m.starts_with('&')
                && !crate::chat::discord::is_snowflake(m)
                && !crate::domain::meeting::is_slack_id(m)
        })
        .map(|m| format!("@{m}"))
        .collect();
    if pings.is_empty() {
        text
    } else {
        format!("{} {text}", pings.join(" "))
    }
}

fn render_reminder(r: &ReminderView) -> String {
    let mut out = String::from("Reminder");
    if let Some(due) = r.late_from {
        let due = crate::domain::zone::human(&due);
        let time = due.splitn(5, ' ').nth(4).unwrap_or(&due);
        out.push_str(&format!(" (late: was due {time} while Quorum was offline)"));
    }
    let when = if r.lead.is_zero() {
        "starts now".to_string()
    } else {
        format!("starts {}", humanize_lead(r.lead))
    };
    out.push_str(&format!(
        ": {} {when}, {} ({}, {}) [series {}]",
        r.title,
        crate::domain::zone::human(&r.at),
        r.at.timezone().name(),
        crate::domain::meeting::format_duration(r.duration),
        r.series_id
    ));
    if !r.attendees.is_empty() {
        out.push_str(&format!(". Attendees: {}", r.attendees.join(", ")));
    }
    if r.agenda.is_empty() {
        out.push_str(". Agenda: none yet");
    } else {
        let items: Vec<String> = r
            .agenda
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}) {t}", i + 1))
            .collect();
        out.push_str(&format!(". Agenda: {}", items.join("; ")));
    }
    if !r.actions.is_empty() {
        out.push_str(&format!(". Open action items: {}", r.actions.join("; ")));
    }
    out.replace('\n', " ")
}

impl Chat for ConsoleChat {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        let line = format!("[#{}] {}\n", message.channel, render(message));
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes())
            .and_then(|_| out.flush())
            .map_err(|e| SendError::Retry(format!("writing to standard output: {e}")))
    }
}

/// Run the console: read one command per line from standard input, print
/// each reply, and let the scheduler post reminders as they fall due, also
/// while waiting for input and after input ends (unless `exit_on_eof`).
pub async fn run(
    app: crate::app::App,
    scheduler: std::sync::Arc<crate::scheduler::Scheduler<ConsoleChat>>,
    user: String,
    exit_on_eof: bool,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt as _;

    tokio::pin!(shutdown);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let loop_handle = {
        let scheduler = scheduler.clone();
        let mut stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            scheduler
                .run(async move {
                    let _ = stop_rx.wait_for(|stop| *stop).await;
                })
                .await;
        })
    };
    let actor = crate::service::meetings::Actor {
        workspace: crate::CONSOLE_WORKSPACE.to_string(),
        user,
        channel: None,
        platform_roles: Vec::new(),
    };
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if input_open => {
                match line {
                    Ok(Some(line)) => {
                        let line = line.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        let reply = app.handle_line(&actor, line, chrono::Utc::now()).await;
                        let text = if reply.is_error {
                            format!("error: {}\n", reply.text)
                        } else {
                            format!("{}\n", reply.text)
                        };
                        let mut out = std::io::stdout().lock();
                        out.write_all(text.as_bytes()).and_then(|_| out.flush()).ok();
                    }
                    Ok(None) => {
                        input_open = false;
                        if exit_on_eof {
                            // Post what the last commands made due (an
                            // escalation's ping, an approval request) before
                            // leaving; claims keep this from doubling with a
                            // tick the run loop has under way.
                            if let Err(e) = scheduler.tick(chrono::Utc::now()).await {
                                tracing::error!(error = ?e, "the last scheduler tick failed");
                            }
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading standard input");
                        input_open = false;
                        if exit_on_eof {
                            break;
                        }
                    }
                }
            }
            _ = &mut shutdown => break,
        }
    }
    let _ = stop_tx.send(true);
    loop_handle.await.ok();
    Ok(())
}

/// Listen for Ctrl-C and SIGTERM from this call on (call it first thing, so
/// a signal during start-up is not lost or fatal); the future resolves on the
/// first. Needs a running Tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = interrupt => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
