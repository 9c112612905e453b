//! The dashboard's chart, drawn on the server as SVG: per week, action items
//! opened and closed (paired bars) and escalations raised (a line), with the
//! week's numbers in each mark's `<title>` for a pointer or screen reader.

use maud::{Markup, html};

use crate::service::dashboard::Week;

const WIDTH: i64 = 640;
const HEIGHT: i64 = 240;
const LEFT: i64 = 36;
const RIGHT: i64 = 12;
const TOP: i64 = 16;
const BOTTOM: i64 = 40;

/// The chart of `weeks` (oldest first).
pub fn svg(weeks: &[Week]) -> Markup {
    let n = i64::try_from(weeks.len()).unwrap_or(i64::MAX).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let top = weeks
        .iter()
        .map(|w| w.opened.max(w.closed).max(w.escalations))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = plot_w / n;
    let bar = (slot / 3).max(1);
    // Height of a value, clamped to the plot (values are database counts).
    let y = |v: i64| TOP + plot_h - v.clamp(0, top).saturating_mul(plot_h) / top;
    let x_of = |i: usize| LEFT + i64::try_from(i).unwrap_or(0).saturating_mul(slot);
    let line: Vec<String> = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{},{}", x_of(i) + slot / 2, y(w.escalations)))
        .collect();
    let ticks = [0, top / 2, top];
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
            role="img" aria-labelledby="chart-title" class="chart" {
            title id="chart-title" { "Action items opened and closed, and escalations raised, per week" }
            @for t in ticks {
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(t)) y2=(y(t)) class="grid" {}
                text x=(LEFT - 6) y=(y(t) + 4) text-anchor="end" class="tick" { (t) }
            }
            @for (i, w) in weeks.iter().enumerate() {
                g class="week" data-week=(w.start) data-opened=(w.opened) data-closed=(w.closed) data-escalations=(w.escalations) {
                    rect class="opened" x=(x_of(i) + slot / 2 - bar) y=(y(w.opened)) width=(bar) height=(y(0) - y(w.opened)) {
                        title { "Week of " (w.start.format("%-d %b")) ": " (w.opened) " opened" }
                    }
                    rect class="closed" x=(x_of(i) + slot / 2) y=(y(w.closed)) width=(bar) height=(y(0) - y(w.closed)) {
                        title { "Week of " (w.start.format("%-d %b")) ": " (w.closed) " closed" }
                    }
                    @if i % 2 == 0 || weeks.len() <= 7 {
                        text x=(x_of(i) + slot / 2) y=(HEIGHT - BOTTOM + 16) text-anchor="middle" class="tick" {
                            (w.start.format("%-d %b"))
                        }
                    }
                }
            }
            polyline class="escalations" fill="none" points=(line.join(" ")) {}
            @for (i, w) in weeks.iter().enumerate() {
                circle class="escalations" cx=(x_of(i) + slot / 2) cy=(y(w.escalations)) r="3" {
                    title { "Week of " (w.start.format("%-d %b")) ": " (w.escalations) " escalations" }
                }
            }
            g class="legend" transform=(format!("translate({LEFT},{})", HEIGHT - 8)) {
                rect class="opened" x="0" y="-9" width="10" height="10" {}
                text x="14" y="0" class="tick" { "opened" }
                rect class="closed" x="70" y="-9" width="10" height="10" {}
                text x="84" y="0" class="tick" { "closed" }
                circle class="escalations" cx="145" cy="-4" r="4" {}
                text x="153" y="0" class="tick" { "escalations" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn every_week_gets_its_bars_and_the_tallest_fills_the_plot() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let weeks = vec![
            Week {
                start,
                opened: 4,
                closed: 2,
                escalations: 1,
            },
            Week {
                start: start + chrono::Duration::weeks(1),
                opened: 0,
                closed: 0,
                escalations: 0,
            },
        ];
        let s = svg(&weeks).into_string();
        assert_eq!(s.matches("<rect class=\"opened\"").count(), 3, "{s}");
        assert!(s.contains("data-opened=\"4\""), "{s}");
        assert!(
            s.contains(&format!("y=\"{TOP}\" width")),
            "the tallest bar reaches the top: {s}"
        );
        assert!(s.contains("2 Nov: 4 opened"), "{s}");
        // No weeks at all still draws an empty, valid chart.
        assert!(svg(&[]).into_string().starts_with("<svg"));
    }
}
