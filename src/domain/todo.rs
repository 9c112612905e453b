//! `TODO.md` in the seed's style, both ways: render action items as a
//! Markdown checklist grouped by priority, and parse a file a person edited.
//!
//! ```text
//! ## High Priority
//!
//! - [ ] Evaluate pgvector [Owner: CTO] (due 2026-12-01) <!-- quorum:42 -->
//! - [x] **VERIFY**: Rotate keys [Owner: CTO] (needs verification) <!-- quorum:43 -->
//! - [x] Ship the audit log [Owner: CTO] (verified) <!-- quorum:44 -->
//! ```
//! Lines that are not checklist items (headings, prose) are kept out of the
//! way; a checklist line that cannot be read is an error with its number.

use chrono::NaiveDate;

use super::action::{Priority, check_task};

/// One item as the file shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoItem {
    pub id: Option<i64>,
    pub task: String,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub priority: Priority,
    pub checked: bool,
    pub verified: bool,
}

/// A checklist line read back, with its line number (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoLine {
    pub line: usize,
    pub item: TodoItem,
}

const HEADER: &str = "# TODO\n\n_Synced with Quorum: tick a box to mark an item done, untick it to reopen, edit the text, or add `- [ ] Task [Owner: CTO] (due 2026-12-01)` under a priority. Keep the `<!-- quorum:N -->` markers._\n";

fn section_title(p: Priority) -> &'static str {
    match p {
        Priority::High => "High Priority",
        Priority::Medium => "Medium Priority",
        Priority::Low => "Low Priority",
    }
}

/// Render items; `show_owner` turns an owner key into its display form
/// (role keys in capitals, as the seed writes `[Owner: CTO]`).
pub fn render(items: &[TodoItem], show_owner: impl Fn(&str) -> String) -> String {
    let mut out = String::from(HEADER);
    for p in Priority::ALL {
        out.push_str(&format!("\n## {}\n\n", section_title(p)));
        for item in items.iter().filter(|i| i.priority == p) {
            out.push_str(&render_line(item, &show_owner));
            out.push('\n');
        }
    }
    out
}

fn render_line(item: &TodoItem, show_owner: &impl Fn(&str) -> String) -> String {
    let needs_verify = item.checked && !item.verified;
    let mut line = format!(
        "- [{}] {}{}",
        if item.checked { "x" } else { " " },
        if needs_verify { "**VERIFY**: " } else { "" },
        item.task
    );
    if let Some(owner) = &item.owner {
        line.push_str(&format!(" [Owner: {}]", show_owner(owner)));
    }
    if let Some(due) = item.due {
        line.push_str(&format!(" (due {due})"));
    }
    if needs_verify {
        line.push_str(" (needs verification)");
    } else if item.verified {
        line.push_str(" (verified)");
    }
    if let Some(id) = item.id {
        line.push_str(&format!(" <!-- quorum:{id} -->"));
    }
    line
}

fn heading_priority(line: &str) -> Option<Priority> {
    let t = line.trim();
    if !(t.starts_with('#') || t.starts_with("**")) {
        return None;
    }
    let lower = t.to_lowercase();
    if !lower.contains("priority") {
        return None;
    }
    Priority::ALL
        .into_iter()
        .find(|p| lower.contains(p.as_str()))
}

/// Parse a whole file. Every bad checklist line is reported, with its number.
pub fn parse(text: &str) -> Result<Vec<TodoLine>, Vec<(usize, String)>> {
    let (items, errors) = parse_all(text);
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// Parse a whole file: the good lines and the errors of the bad ones.
pub fn parse_all(text: &str) -> (Vec<TodoLine>, Vec<(usize, String)>) {
    let mut priority = Priority::Medium;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(p) = heading_priority(raw) {
            priority = p;
            continue;
        }
        match parse_line(raw, priority) {
            Ok(None) => {}
            Ok(Some(item)) => {
                if let Some(id) = item.id {
                    if let Some(first) = seen.insert(id, n) {
                        errors.push((
                            n,
                            format!("quorum:{id} appears twice (first on line {first})"),
                        ));
                        continue;
                    }
                }
                items.push(TodoLine { line: n, item });
            }
            Err(e) => errors.push((n, e)),
        }
    }
    (items, errors)
}

/// Append `<!-- quorum:N -->` to line `line` (1-based) of `text`.
pub fn add_marker(text: &str, line: usize, id: i64) -> String {
    let mut out = String::with_capacity(text.len() + 24);
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.trim_end_matches(['\n', '\r']);
            let end = &l[body.len()..];
            out.push_str(&format!("{} <!-- quorum:{id} -->{end}", body.trim_end()));
        } else {
            out.push_str(l);
        }
    }
    out
}

fn parse_line(raw: &str, priority: Priority) -> Result<Option<TodoItem>, String> {
    let t = raw.trim();
    let Some(rest) = t.strip_prefix("- [").or_else(|| t.strip_prefix("* [")) else {
        return Ok(None);
    };
    let (checked, rest) = match rest.get(..2) {
        Some(" ]") => (false, &rest[2..]),
        Some("x]") | Some("X]") => (true, &rest[2..]),
        _ => return Err("the checkbox must be `[ ]` or `[x]`".to_string()),
    };
    let mut rest = rest.trim().to_string();
    let mut id = None;
    if let Some(start) = rest.find("<!--") {
        let comment = rest[start..].trim();
        let inner = comment
            .strip_prefix("<!--")
            .and_then(|c| c.strip_suffix("-->"))
            .map(str::trim)
            .ok_or_else(|| "the `<!-- quorum:N -->` marker is not closed".to_string())?;
        let num = inner.strip_prefix("quorum:").ok_or_else(|| {
            format!("`{comment}` is not a Quorum marker; it should look like <!-- quorum:42 -->")
        })?;
        id = Some(
            num.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{num}` in the marker is not an item id"))?,
        );
        rest.truncate(start);
        rest = rest.trim_end().to_string();
    }
    let mut verified = false;
    for (suffix, is_verified) in [(" (needs verification)", false), (" (verified)", true)] {
        if let Some(s) = rest.strip_suffix(suffix) {
            rest = s.to_string();
            verified = is_verified;
        }
    }
    let mut due = None;
    if rest.ends_with(')') {
        if let Some(start) = rest.rfind(" (due ") {
            let date = &rest[start + 6..rest.len() - 1];
            due = Some(
                NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("`{date}` is not a due date; write (due YYYY-MM-DD)"))?,
            );
            rest.truncate(start);
        }
    }
    let mut owner = None;
    if rest.ends_with(']') {
        if let Some(start) = rest.rfind(" [Owner:") {
            let name = rest[start + 8..rest.len() - 1].trim().to_lowercase();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("`{name}` is not an owner; write [Owner: CTO]"));
            }
            owner = Some(name);
            rest.truncate(start);
        }
    }
    let task_text = rest.trim().trim_start_matches("**VERIFY**:").trim();
    let task = check_task(task_text).map_err(|e| e.0)?;
    Ok(Some(TodoItem {
        id,
        task,
        owner,
        due,
        priority,
        checked,
        verified: checked && verified,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, task: &str, p: Priority, checked: bool, verified: bool) -> TodoItem {
        TodoItem {
            id: Some(id),
            task: task.to_string(),
            owner: Some("cto".to_string()),
            due: NaiveDate::from_ymd_opt(2026, 12, 1),
            priority: p,
            checked,
            verified,
        }
    }

    #[test]
    fn render_then_parse_gives_the_same_items() {
        let items = vec![
            item(42, "Evaluate pgvector", Priority::High, false, false),
            item(43, "Rotate keys (all of them)", Priority::High, true, false),
            item(44, "Ship the audit log", Priority::Low, true, true),
        ];
        let text = render(&items, |o| o.to_uppercase());
        assert!(
            text.contains(
                "- [ ] Evaluate pgvector [Owner: CTO] (due 2026-12-01) <!-- quorum:42 -->"
            ),
            "{text}"
        );
        assert!(text.contains("- [x] **VERIFY**: Rotate keys (all of them) [Owner: CTO] (due 2026-12-01) (needs verification) <!-- quorum:43 -->"), "{text}");
        let back: Vec<TodoItem> = parse(&text).unwrap().into_iter().map(|l| l.item).collect();
        assert_eq!(back, items);
        let again = render(&back, |o| o.to_uppercase());
        assert_eq!(again, text);
    }

    #[test]
    fn new_lines_take_the_priority_of_their_section() {
        let text = "**High Priority**:\n- [ ] Conduct security audits\n\n## Low Priority\n* [x] Team training [Owner: ceo]\nSome prose.\n";
        let lines = parse(text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].item.priority, Priority::High);
        assert_eq!(lines[0].item.owner, None);
        assert_eq!(lines[1].line, 5);
        assert_eq!(lines[1].item.priority, Priority::Low);
        assert!(lines[1].item.checked);
    }

    #[test]
    fn bad_lines_are_all_reported_with_their_numbers() {
        let text = "- [?] Odd box\n- [ ] Fine\n- [ ] Bad date (due 2026-13-01)\n- [ ] Dup <!-- quorum:1 -->\n- [ ] Dup again <!-- quorum:1 -->\n- [ ]   \n- [ ] x <!-- quorum:abc -->\n";
        let errors = parse(text).unwrap_err();
        let numbers: Vec<usize> = errors.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 3, 5, 6, 7], "{errors:?}");
        assert!(errors[0].1.contains("checkbox"));
        assert!(errors[1].1.contains("`2026-13-01` is not a due date"));
        assert!(errors[2].1.contains("appears twice (first on line 4)"));
    }
}
