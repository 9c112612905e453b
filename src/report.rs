//! The written updates and the board pack, rendered from one
//! [`PeriodReport`]: the weekly, monthly and quarterly updates as notices
//! (each chat adapter renders those), and the board pack of
//! `quorum report` as Markdown, as HTML (the Markdown through pulldown-cmark,
//! with any raw HTML shown as text), or as PDF (that HTML printed by headless
//! Chromium).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::decision::attribution;
use crate::domain::notice::{Kind, List, More, Notice};
use crate::domain::period::PeriodKind;
use crate::service::report::PeriodReport;
use crate::store::{DecisionRow, RiskRow};

/// Items a list in a chat update shows before "+N more".
const LIST_MAX: usize = 10;

fn day(config: &Config, at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| config.default_zone.local(t).date().to_string())
        .unwrap_or_default()
}

fn decision_item(d: &DecisionRow) -> String {
    format!(
        "#{} {} ({}, {})",
        d.id,
        d.title,
        d.category,
        attribution(
            &d.status,
            &d.decided_by,
            &d.recorded_by,
            d.settled_by.as_deref()
        )
    )
}

fn pending_item(config: &Config, d: &DecisionRow, now: i64) -> String {
    let waited = crate::domain::notice::ago(chrono::Duration::seconds(
        now.saturating_sub(d.created_at).max(0),
    ));
    format!(
        "#{} {} (waiting for {} since {}, {waited})",
        d.id,
        d.title,
        d.authority,
        day(config, d.created_at)
    )
}

fn escalation_outcome(e: &crate::service::report::EscalationLine) -> String {
    match e.row.state.as_str() {
        "resolved" => match e.row.resolution.as_deref() {
            Some(r) if !r.is_empty() => format!(
                "resolved by {}: {r}",
                e.row.resolved_by.as_deref().unwrap_or("someone")
            ),
            _ => format!(
                "resolved by {}",
                e.row.resolved_by.as_deref().unwrap_or("someone")
            ),
        },
        "acked" => format!(
            "acknowledged by {}, at {}",
            e.row.acked_by.as_deref().unwrap_or("someone"),
            e.level
        ),
        "waiting" => format!("waiting for working hours, at {}", e.level),
        _ => format!("open, now at {}", e.level),
    }
}

fn risk_item(r: &RiskRow) -> String {
    format!(
        "#{} [{}] {} (owner {}, {}; mitigation: {})",
        r.id, r.severity, r.title, r.owner, r.status, r.mitigation
    )
}

/// `items` as a notice list of at most [`LIST_MAX`], with the command that
/// shows the rest.
fn capped(heading: &str, items: Vec<String>, more: &str) -> List {
    let mut list = List::new(heading);
    let n = items.len();
    for i in items.into_iter().take(LIST_MAX) {
        list = list.item(i);
    }
    if n > LIST_MAX {
        list.more = Some(More {
            count: n - LIST_MAX,
            command: more.to_string(),
        });
    }
    list
}

/// The weekly update: what the week held, who owes what, and what comes
/// next week. `title` names the week.
pub fn weekly_notice(config: &Config, r: &PeriodReport, title: String, now: i64) -> Notice {
    let t = r.totals();
    let mut n = Notice::new(Kind::WeeklyUpdate, title)
        .field("Decisions", format!("{} recorded", r.decisions.len()))
        .field(
            "Action items",
            format!(
                "{} opened, {} closed, {} verified, {} overdue",
                t.opened, t.closed, t.verified, t.overdue
            ),
        )
        .field(
            "Escalations",
            format!(
                "{} raised, {} climbed, {} resolved",
                r.raised(),
                r.climbs,
                r.resolved()
            ),
        )
        .field("Approvals pending", r.pending.len().to_string());
    n = common_lists(config, r, n, now, true);
    if !r.next_meetings.is_empty() {
        let items = r
            .next_meetings
            .iter()
            .map(|m| {
                let note = m
                    .note
                    .as_deref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default();
                format!("{} {}{note}", crate::domain::notice::moment(&m.at), m.title)
            })
            .collect();
        n = n.list(capped("Next week's meetings", items, "/meeting list"));
    }
    n
}

/// The lists the weekly and the period updates share.
fn common_lists(
    config: &Config,
    r: &PeriodReport,
    mut n: Notice,
    now: i64,
    weekly: bool,
) -> Notice {
    if !r.decisions.is_empty() {
        let since = day(config, r.since);
        n = n.list(capped(
            "Decisions recorded",
            r.decisions.iter().map(decision_item).collect(),
            &format!("/decision list since:{since}"),
        ));
    }
    if !r.pending.is_empty() {
        n = n.list(capped(
            "Awaiting approval",
            r.pending
                .iter()
                .map(|d| pending_item(config, d, now))
                .collect(),
            "/decision list status:proposed",
        ));
    }
    let shown: Vec<String> = r
        .escalations
        .iter()
        .map(|e| {
            format!(
                "#{} [{}] {}: {} ({})",
                e.row.id,
                e.row.severity,
                e.row.topic,
                e.row.summary,
                escalation_outcome(e)
            )
        })
        .collect();
    if !shown.is_empty() {
        n = n.list(capped("Escalations", shown, "/escalation list"));
    }
    let owners: Vec<String> = r
        .throughput
        .iter()
        .filter(|o| o.opened + o.closed + o.verified + o.overdue > 0)
        .map(|o| {
            format!(
                "{}: {} opened, {} closed, {} verified, {} overdue",
                o.owner, o.opened, o.closed, o.verified, o.overdue
            )
        })
        .collect();
    if !owners.is_empty() {
        n = n.list(capped("Action items by owner", owners, "/action list"));
    }
    if weekly && !r.overdue.is_empty() {
        n = n.list(capped(
            "Overdue action items",
            r.overdue
                .iter()
                .map(|a| format!("#{} {} ({})", a.id, a.task, a.owner))
                .collect(),
            "/action list overdue:true",
        ));
    }
    n
}

/// The monthly or quarterly update posted to the executive channel.
pub fn period_notice(config: &Config, r: &PeriodReport, now: i64) -> Notice {
    let t = r.totals();
    let what = match r.period.kind {
        PeriodKind::Quarter => "Quarterly update",
        _ => "Monthly update",
    };
    let held: i64 = r.meetings.iter().map(|m| m.held).sum();
    let skipped: i64 = r.meetings.iter().map(|m| m.skipped).sum();
    let mut n = Notice::new(Kind::PeriodUpdate, format!("{what}: {}", r.period.label()))
        .field(
            "Decisions",
            format!(
                "{} recorded, {} awaiting approval",
                r.decisions.len(),
                r.pending.len()
            ),
        )
        .field(
            "Escalations",
            format!(
                "{} raised, {} climbed, {} resolved",
                r.raised(),
                r.climbs,
                r.resolved()
            ),
        )
        .field(
            "Action items",
            format!(
                "{} opened, {} closed, {} verified, {} overdue",
                t.opened, t.closed, t.verified, t.overdue
            ),
        )
        .field("Meetings", format!("{held} held, {skipped} skipped"))
        .field(
            "Risks",
            format!(
                "{} open, {} closed",
                r.open_risks.len(),
                r.closed_risks.len()
            ),
        );
    n = common_lists(config, r, n, now, false);
    if !r.meetings.is_empty() {
        n = n.list(capped(
            "Meetings",
            r.meetings
                .iter()
                .map(|m| format!("{}: {} held, {} skipped", m.title, m.held, m.skipped))
                .collect(),
            "/meeting list",
        ));
    }
    if !r.open_risks.is_empty() {
        n = n.list(capped(
            "Open risks",
            r.open_risks.iter().map(risk_item).collect(),
            "/risk list",
        ));
    }
    n.context(format!(
        "the board pack of the same period: quorum report --period {}",
        r.period
    ))
}

/// Text put in Markdown as itself, never at the start of a line: every
/// character Markdown (or HTML inside it) could read as markup there is
/// escaped, and line breaks become spaces.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '<' | '>' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The board pack as Markdown.
pub fn markdown(config: &Config, r: &PeriodReport) -> String {
    let t = r.totals();
    let e = md_text;
    let mut out = String::new();
    let held: i64 = r.meetings.iter().map(|m| m.held).sum();
    let skipped: i64 = r.meetings.iter().map(|m| m.skipped).sum();
    let critical = r
        .open_risks
        .iter()
        .filter(|x| x.severity == "critical")
        .count();
    let _ = writeln!(out, "# Board pack: {}\n", e(&r.period.label()));
    let _ = writeln!(
        out,
        "Workspace {}, {} to {} ({}). Pending approvals, open escalations and open risks are as of when this pack was written.\n",
        e(&r.workspace),
        r.period.start,
        r.period.last_day(),
        e(config.default_zone.name())
    );
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "- **Decisions:** {} recorded; {} awaiting approval",
        r.decisions.len(),
        r.pending.len()
    );
    let _ = writeln!(
        out,
        "- **Escalations:** {} raised, {} climbed, {} resolved; {} still open",
        r.raised(),
        r.climbs,
        r.resolved(),
        r.escalations
            .iter()
            .filter(|x| x.row.state != "resolved")
            .count()
    );
    let _ = writeln!(
        out,
        "- **Action items:** {} opened, {} closed, {} verified; {} overdue",
        t.opened, t.closed, t.verified, t.overdue
    );
    let _ = writeln!(out, "- **Meetings:** {held} held, {skipped} skipped");
    let _ = writeln!(
        out,
        "- **Risks:** {} open ({critical} critical), {} closed in the period\n",
        r.open_risks.len(),
        r.closed_risks.len()
    );

    let _ = writeln!(out, "## Decisions\n");
    if r.decisions.is_empty() {
        let _ = writeln!(out, "None recorded.\n");
    } else {
        let _ = writeln!(
            out,
            "| # | Date | Decision | Category | Status and approval |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for d in &r.decisions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                d.id,
                day(config, d.created_at),
                e(&d.title),
                e(&d.category),
                e(&attribution(
                    &d.status,
                    &d.decided_by,
                    &d.recorded_by,
                    d.settled_by.as_deref()
                ))
            );
        }
        out.push('\n');
    }
    if !r.pending.is_empty() {
        let _ = writeln!(out, "### Awaiting approval\n");
        for d in &r.pending {
            let _ = writeln!(
                out,
                "- #{} {} (waiting for {} since {})",
                d.id,
                e(&d.title),
                e(&d.authority),
                day(config, d.created_at)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Escalations\n");
    if r.escalations.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        let _ = writeln!(out, "| # | Raised | Severity | Topic | Summary | Outcome |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for x in &r.escalations {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                x.row.id,
                day(config, x.row.created_at),
                e(&x.row.severity),
                e(&x.row.topic),
                e(&x.row.summary),
                e(&escalation_outcome(x))
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Action items by owner\n");
    if r.throughput.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        let _ = writeln!(
            out,
            "| Owner | Opened | Closed | Verified | Open at end | Overdue |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for o in &r.throughput {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                e(&config.org.describe(&o.owner)),
                o.opened,
                o.closed,
                o.verified,
                o.open,
                o.overdue
            );
        }
        let _ = writeln!(
            out,
            "| **All** | {} | {} | {} | {} | {} |\n",
            t.opened, t.closed, t.verified, t.open, t.overdue
        );
    }
    if !r.overdue.is_empty() {
        let _ = writeln!(out, "### Overdue\n");
        for a in &r.overdue {
            let _ = writeln!(
                out,
                "- #{} {} ({}, due {})",
                a.id,
                e(&a.task),
                e(&a.owner),
                a.due_date.as_deref().unwrap_or("")
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Meetings\n");
    if r.meetings.is_empty() {
        let _ = writeln!(out, "None held or skipped.\n");
    } else {
        let _ = writeln!(out, "| Meeting | Held | Skipped |");
        let _ = writeln!(out, "|---|---:|---:|");
        for m in &r.meetings {
            let _ = writeln!(out, "| {} | {} | {} |", e(&m.title), m.held, m.skipped);
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Risk register\n");
    if r.open_risks.is_empty() {
        let _ = writeln!(out, "No open risks.\n");
    } else {
        let _ = writeln!(
            out,
            "| # | Severity | Risk | Owner | Status | Mitigation | Review |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for x in &r.open_risks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                x.id,
                e(&x.severity),
                e(&x.title),
                e(&x.owner),
                e(&x.status),
                e(&x.mitigation),
                e(&x.review)
            );
        }
        out.push('\n');
    }
    if !r.closed_risks.is_empty() {
        let _ = writeln!(out, "### Closed in the period\n");
        for x in &r.closed_risks {
            let _ = writeln!(
                out,
                "- #{} {} (closed {} by {})",
                x.id,
                e(&x.title),
                x.closed_at.map(|t| day(config, t)).unwrap_or_default(),
                e(x.closed_by.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    out
}

/// The board pack as one HTML page (its Markdown, rendered; raw HTML in
/// the Markdown is shown as text, never interpreted).
pub fn html(config: &Config, r: &PeriodReport) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let md = markdown(config, r);
    let parser = Parser::new_ext(&md, Options::ENABLE_TABLES).map(|ev| match ev {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    let title = format!("Board pack: {}", r.period.label());
    let mut title_html = String::new();
    escape_html(&title, &mut title_html);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title_html}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

const STYLE: &str = "body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111827; }
h1 { border-bottom: 2px solid #1f2937; padding-bottom: .3rem; }
h2 { margin-top: 2rem; color: #1f2937; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #d1d5db; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
";

/// Why a PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "cannot make a PDF: Chromium was not found at {0} (install Debian's `chromium` package, or name it with --chromium PATH)"
    )]
    NoChromium(String),
    #[error("cannot make a PDF: {0}")]
    Failed(String),
}

/// Where Debian's `chromium` package puts the browser.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long Chromium may take to print one pack.
const PRINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Print `html` to a PDF at `out` with headless Chromium, in a fresh
/// profile folder that is removed afterwards, with its networking and
/// background services off. Blocks (call it off the async runtime).
pub fn print_pdf(chromium: &Path, html: &str, out: &Path) -> Result<(), PdfError> {
    if !chromium.is_file() {
        return Err(PdfError::NoChromium(chromium.display().to_string()));
    }
    let dir =
        private_temp_dir().map_err(|e| PdfError::Failed(format!("a temporary folder: {e}")))?;
    let result = print_in(chromium, html, out, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn print_in(chromium: &Path, html: &str, out: &Path, dir: &Path) -> Result<(), PdfError> {
    use std::io::Read as _;
    let page = dir.join("pack.html");
    let profile = dir.join("profile");
    let pdf = dir.join("pack.pdf");
    std::fs::write(&page, html).map_err(|e| PdfError::Failed(format!("writing the page: {e}")))?;
    let mut child = std::process::Command::new(chromium)
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-quic")
        .arg("--no-first-run")
        .arg("--disable-background-networking")
        .arg("--disable-component-update")
        .arg("--disable-sync")
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| PdfError::Failed(format!("starting {}: {e}", chromium.display())))?;
    // Read its log as it goes (a full pipe would stall it).
    let mut stderr = child.stderr.take();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(1 << 20).read_to_string(&mut text);
        }
        text
    });
    let deadline = std::time::Instant::now() + PRINT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfError::Failed(
                    "Chromium did not finish within 60 s".into(),
                ));
            }
            Err(e) => return Err(PdfError::Failed(format!("running Chromium: {e}"))),
        }
    };
    let log = log.join().unwrap_or_default();
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    if !bytes.starts_with(b"%PDF") {
        let last = log
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(PdfError::Failed(format!(
            "Chromium wrote no PDF ({status}): {}",
            last.chars().take(300).collect::<String>()
        )));
    }
    std::fs::write(out, &bytes)
        .map_err(|e| PdfError::Failed(format!("writing {}: {e}", out.display())))
}

/// A fresh folder under the system's temporary directory, readable only by us.
fn private_temp_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("quorum-report-{}", hex::encode(random)));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}
