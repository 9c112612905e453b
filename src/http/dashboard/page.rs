//! The dashboard page, rendered on the server with maud (checked at compile
//! time; every value is HTML-escaped). No scripts and no front-end build:
//! inline CSS that reflows to one column on a phone.
//!
//! The page is a list of sections, one function each ([`sections`]); a new
//! section is a function returning `Markup` and one line there.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::config::Config;
use crate::service::dashboard::{Dashboard, OwnerItems};
use crate::store::rows::ActionRow;

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f3f4f6}
header{background:#1f2937;color:#f9fafb;padding:.8rem 1rem}
header h1{margin:0;font-size:1.2rem}
header p{margin:.2rem 0 0;color:#d1d5db;font-size:.85rem}
main{max-width:70rem;margin:0 auto;padding:.75rem}
section{background:#fff;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 .9rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.05rem;margin:.1rem 0 .6rem}
h3{font-size:.95rem;margin:.8rem 0 .3rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:0 0 .9rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem}
select,button{font:inherit;padding:.3rem .5rem}
.strip{display:flex;gap:.5rem;overflow-x:auto;padding-bottom:.3rem}
.day{flex:0 0 9.5rem;border:1px solid #e5e7eb;border-radius:.4rem;padding:.4rem;min-height:5rem}
.day.off{background:#fef3c7}
.day h3{margin:0 0 .3rem;font-size:.85rem}
.flag{font-size:.75rem;color:#92400e}
.meeting{font-size:.85rem;margin:.3rem 0;border-left:3px solid #2563eb;padding-left:.35rem}
.meeting.away{border-color:#9ca3af;color:#6b7280;text-decoration:line-through}
.meeting ol{margin:.2rem 0 0;padding-left:1.1rem}
.note{font-size:.75rem;color:#92400e}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
.scroll{overflow-x:auto}
.sev{display:inline-block;border-radius:.3rem;padding:0 .35rem;font-size:.75rem;font-weight:600;color:#fff;background:#6b7280}
.sev.critical{background:#b91c1c}.sev.high{background:#ea580c}.sev.medium{background:#ca8a04}
.muted{color:#6b7280}
ul.items{margin:.2rem 0;padding-left:1.1rem}
.overdue{color:#b91c1c}
.chart{width:100%;height:auto;max-height:18rem}
.chart .grid{stroke:#e5e7eb}.chart .tick{font-size:10px;fill:#6b7280}
.chart rect.opened{fill:#2563eb}.chart rect.closed{fill:#16a34a}
.chart .escalations{stroke:#b91c1c;fill:#b91c1c;stroke-width:2}
.chart polyline.escalations{fill:none}
@media (max-width:40rem){body{font-size:14px}main{padding:.4rem}section{padding:.6rem}}
"#;

/// `3d 4h`, `5h 10m`, `12m`.
pub fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
}

/// A page with one message (sign-in problems, bad filters).
pub fn message(title: &str, text: &str) -> Markup {
    layout(
        title,
        html! {
            header { h1 { "Quorum" } }
            main { section id="message" { h2 { (title) } p { (text) } } }
        },
    )
}

/// The whole page.
pub fn render(d: &Dashboard, config: &Config) -> Markup {
    layout(
        "Quorum dashboard",
        html! {
            header {
                h1 { "Quorum dashboard" }
                p {
                    "Workspace " (d.workspace) " · signed in as " (d.person)
                    " · " (d.now.with_timezone(&config.default_zone.tz()).format("%a %-d %b %Y %H:%M %Z"))
                }
            }
            main {
                (filters(d, config))
                @for s in sections(d, config) { (s) }
            }
        },
    )
}

/// The sections in page order.
pub fn sections(d: &Dashboard, config: &Config) -> Vec<Markup> {
    vec![
        meetings(d),
        escalations(d, config),
        actions(d, config),
        decisions(d, config),
        risks(d, config),
        chart(d),
    ]
}

fn filters(d: &Dashboard, config: &Config) -> Markup {
    let exec = d.filters.exec.as_deref();
    let category = d.filters.category.as_deref();
    html! {
        form class="filters" method="get" action="/dashboard" {
            label { "Executive"
                select name="exec" {
                    option value="" selected[exec.is_none()] { "everyone" }
                    @for r in config.org.roles() {
                        option value=(r) selected[exec == Some(r)] { (config.org.describe(r)) }
                    }
                }
            }
            label { "Decision category"
                select name="category" {
                    option value="" selected[category.is_none()] { "all" }
                    @for (c, _) in &config.categories {
                        option value=(c) selected[category == Some(c.as_str())] { (c) }
                    }
                }
            }
            button type="submit" { "Filter" }
            @if exec.is_some() || category.is_some() {
                a href="/dashboard" { "clear" }
            }
        }
    }
}

fn meetings(d: &Dashboard) -> Markup {
    html! {
        section id="meetings" {
            h2 { "Meetings: the next two weeks" }
            div class="strip" {
                @for day in &d.days {
                    div class={ "day" @if day.flag.is_some() { " off" } } data-date=(day.date) {
                        h3 { (day.date.format("%a %-d %b")) }
                        @if let Some(f) = day.flag {
                            div class="flag" { (f) }
                        }
                        @for m in &day.meetings {
                            @let away = m.label.as_deref().is_some_and(|l| !l.starts_with("moved from"));
                            div class={ "meeting" @if away { " away" } } data-series=(m.series_id) data-at=(m.at) {
                                strong { (m.title) } br;
                                span class="muted" { (m.time) }
                                @if let Some(l) = &m.label { " (" (l) ")" }
                                @if let Some(n) = &m.note { div class="note" { (n) } }
                                @if !m.agenda.is_empty() {
                                    ol class="agenda" { @for item in &m.agenda { li { (item) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn escalations(d: &Dashboard, config: &Config) -> Markup {
    html! {
        section id="escalations" {
            h2 { "Escalations (" (d.escalations.len()) " open)" }
            @if d.escalations.is_empty() {
                p class="muted" { "No open escalations." }
            } @else {
                div class="scroll" { table {
                    thead { tr { th { "#" } th { "Severity" } th { "Escalation" } th { "Level" } th { "Age" } th { "Climbs in" } } }
                    tbody {
                        @for e in &d.escalations {
                            tr data-id=(e.id) data-severity=(e.severity) {
                                td { (e.id) }
                                td { span class={ "sev " (e.severity) } { (e.severity) } }
                                td { strong { (e.topic) } ": " (e.summary) br;
                                     span class="muted" { (e.state) ", routed to " (config.org.describe(&e.routed_to)) } }
                                td { (e.step) " (" (e.level) " of " (e.levels) ")" }
                                td { (span(e.age_secs)) }
                                td { @match (e.climbs_in, e.state.as_str()) {
                                    (Some(s), "waiting") => { "posted in " (span(s)) }
                                    (Some(0), _) => { span class="overdue" { "due now" } }
                                    (Some(s), _) => { (span(s)) }
                                    (None, "acked") => { span class="muted" { "acknowledged" } }
                                    (None, _) => { span class="muted" { "top of the path" } }
                                } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn risks(d: &Dashboard, config: &Config) -> Markup {
    html! {
        section id="risks" {
            h2 { "Risks (" (d.risks.len()) " open)" }
            @if d.risks.is_empty() {
                p class="muted" { "No open risks." }
            } @else {
                div class="scroll" { table {
                    thead { tr { th { "#" } th { "Severity" } th { "Risk" } th { "Owner" } th { "Status" } th { "Review" } } }
                    tbody {
                        @for r in &d.risks {
                            tr data-id=(r.id) data-severity=(r.severity) {
                                td { (r.id) }
                                td { span class={ "sev " (r.severity) } { (r.severity) } }
                                td { strong { (r.title) } br;
                                     span class="muted" { "Mitigation: " (r.mitigation) } }
                                td { (config.org.describe(&r.owner)) }
                                td { (r.status) }
                                td { (r.review)
                                     @if let Some(next) = r.next_review_at {
                                         @let left = next.saturating_sub(d.now.timestamp());
                                         br; @if left <= 0 {
                                             span class="overdue" { "review due" }
                                         } @else {
                                             span class="muted" { "next in " (span(left)) }
                                         }
                                     } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn item_list(title: &str, class: &str, items: &[ActionRow]) -> Markup {
    html! {
        @if !items.is_empty() {
            div class=(class) {
                span class="muted" { (title) " (" (items.len()) ")" }
                ul class="items" {
                    @for a in items {
                        li data-id=(a.id) {
                            "#" (a.id) " " (a.task)
                            @if let Some(due) = &a.due_date { span class="muted" { " · due " (due) } }
                            span class="muted" { " · " (a.priority) }
                        }
                    }
                }
            }
        }
    }
}

fn owner_items(owner: &str, items: &OwnerItems) -> Markup {
    html! {
        div class="owner" data-owner=(owner) {
            h3 { (owner) }
            (item_list("Overdue", "overdue", &items.overdue))
            (item_list("Due this week", "due-week", &items.due_this_week))
            (item_list("Done, awaiting verification", "awaiting", &items.awaiting_verification))
        }
    }
}

fn actions(d: &Dashboard, config: &Config) -> Markup {
    html! {
        section id="actions" {
            h2 { "Action items" }
            div class="scroll" { table class="counts" {
                thead { tr { th { "Executive" } th { "Overdue" } th { "Due this week" } th { "Awaiting verification" } } }
                tbody {
                    @for c in &d.counts {
                        tr data-owner=(c.owner) {
                            td { (config.org.describe(&c.owner)) }
                            td class={ @if c.overdue > 0 { "overdue" } } { (c.overdue) }
                            td { (c.due_this_week) }
                            td { (c.awaiting_verification) }
                        }
                    }
                }
            } }
            @if d.actions.is_empty() {
                p class="muted" { "Nothing overdue, due this week or awaiting verification." }
            }
            @for (owner, items) in &d.actions { (owner_items(owner, items)) }
        }
    }
}

fn decisions(d: &Dashboard, config: &Config) -> Markup {
    html! {
        section id="decisions" {
            h2 { "Decisions" }
            h3 { "Awaiting approval (" (d.waiting.len()) ")" }
            @if d.waiting.is_empty() {
                p class="muted" { "None." }
            } @else {
                ul class="items waiting" {
                    @for w in &d.waiting {
                        li data-id=(w.decision.id) {
                            "#" (w.decision.id) " " (w.decision.title)
                            span class="muted" { " · " (w.decision.category) " · needs " (config.org.describe(&w.decision.authority)) " · waiting " (span(w.waited_secs)) }
                        }
                    }
                }
            }
            h3 { "The last 30 days, by category" }
            @if d.recent.is_empty() {
                p class="muted" { "No decisions in the last 30 days." }
            }
            @for (category, list) in &d.recent {
                div class="category" data-category=(category) {
                    strong { (category) " (" (list.len()) ")" }
                    ul class="items" {
                        @for r in list {
                            li data-id=(r.id) {
                                "#" (r.id) " " (r.title)
                                span class="muted" { " · " (r.status) " · " (config.org.describe(&r.decided_by)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn chart(d: &Dashboard) -> Markup {
    let (opened, closed, raised) = d.weeks.iter().fold((0i64, 0i64, 0i64), |(o, c, e), w| {
        (
            o.saturating_add(w.opened),
            c.saturating_add(w.closed),
            e.saturating_add(w.escalations),
        )
    });
    html! {
        section id="chart" {
            h2 { "The last quarter, week by week" }
            p class="muted" {
                "Whole workspace, weeks from Monday (" (d.zone) "): "
                (opened) " action items opened, " (closed) " closed, " (raised) " escalations."
            }
            (super::chart::svg(&d.weeks))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_the_largest_units() {
        assert_eq!(span(0), "0m");
        assert_eq!(span(59 * 60), "59m");
        assert_eq!(span(3 * 3600 + 5 * 60), "3h 5m");
        assert_eq!(span(2 * 86_400 + 7200), "2d 2h");
        assert_eq!(span(-5), "0m");
    }

    #[test]
    fn a_message_page_escapes_what_it_quotes() {
        let s = message("Bad", "`<script>` is not an executive").into_string();
        assert!(s.contains("&lt;script&gt;"), "{s}");
        assert!(!s.contains("<script>"), "{s}");
    }
}
