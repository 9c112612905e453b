//! The console adapter's sink: every message Quorum posts is printed as
//! `[#channel] title`, then its fields, text and lists indented below it,
//! and for each button the command that does the same.

use std::io::Write as _;

use super::{Chat, Outgoing, SendError};
use crate::domain::notice::Notice;

#[derive(Debug, Default, Clone)]
pub struct ConsoleChat;

/// The console's own identities among `mention`: chat users that are not
/// another platform's ids (Discord snowflakes and roles, Slack ids).
fn pings(message: &Outgoing) -> Vec<String> {
    message
        .mention
        .iter()
        .filter(|m| {
            !m.starts_with('&')
                && !crate::chat::discord::is_snowflake(m)
                && !crate::domain::meeting::is_slack_id(m)
        })
        .map(|m| format!("@{m}"))
        .collect()
}

/// Readable multi-line text for a message: the title line (with whom it
/// pings), then every other line indented by two spaces.
pub fn render(message: &Outgoing) -> String {
    let mut head = pings(message);
    let notice = message.notice();
    head.push(one_line(&notice.headline()));
    let mut out = head.join(" ");
    for line in body_lines(&notice) {
        out.push_str("\n  ");
        out.push_str(&line);
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Every line of a notice below its title.
pub fn body_lines(n: &Notice) -> Vec<String> {
    let mut out = Vec::new();
    for f in &n.fields {
        out.push(format!("{}: {}", f.name, one_line(&f.value)));
    }
    for t in &n.text {
        out.push(one_line(t));
    }
    for list in &n.lists {
        out.push(format!("{}:", list.heading));
        for (i, item) in list.items.iter().enumerate() {
            let mark = if list.numbered {
                format!("{}.", i + 1)
            } else {
                "-".to_string()
            };
            let mut line = format!("  {mark} {}", one_line(&item.text));
            if let Some(a) = &item.action {
                line.push_str(&format!("  [{}: {}]", a.label, a.command));
            }
            out.push(line);
        }
        if let Some(more) = &list.more {
            out.push(format!("  +{} more: {}", more.count, more.command));
        }
    }
    if let Some(c) = &n.context {
        out.push(format!("({})", one_line(c).trim_end_matches('.')));
    }
    // A button with no command (Snooze) has nothing to type instead.
    for a in n.actions.iter().filter(|a| !a.command.is_empty()) {
        out.push(format!("[{}] {}", a.label, a.command));
    }
    out
}

impl Chat for ConsoleChat {
    async fn post(&self, message: &Outgoing) -> Result<(), SendError> {
        // A direct message shows whom it is for (`[@cto]`), not its target.
        let line = match crate::domain::direct::parse(&message.channel) {
            Some(d) => format!("[@{}] {}\n", d.role, render(message)),
            None => format!("[#{}] {}\n", message.channel, render(message)),
        };
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
