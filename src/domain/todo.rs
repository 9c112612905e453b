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
//!
//! A `**VERIFY**:` line is done and awaiting verification whatever its box
//! shows (the seed writes `- [ ] **VERIFY**: ...`); to reopen an item,
//! untick it and drop the prefix. A file kept for one
//! owner says so under its title, `<!-- quorum:scope owner:cto -->`, so a
//! later sync keeps to that owner. [`merge`] is the three-way merge of one
//! item: the version both sides last agreed on, the file's and Quorum's.

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

const HEADER: &str = "# TODO\n\n_Synced with Quorum: tick a box to mark an item done, untick it (and drop `**VERIFY**:`) to reopen, edit the text, or add `- [ ] Task [Owner: CTO] (due 2026-12-01)` under a priority. Keep the `<!-- quorum:N -->` markers._\n";

const SCOPE_MARK: &str = "<!-- quorum:scope owner:";

fn section_title(p: Priority) -> &'static str {
    match p {
        Priority::High => "High Priority",
        Priority::Medium => "Medium Priority",
        Priority::Low => "Low Priority",
    }
}

/// Render items; `show_owner` turns an owner key into its display form
/// (role keys in capitals, as the seed writes `[Owner: CTO]`). A file kept
/// for one owner (`scope`) records it under the title.
pub fn render(
    items: &[TodoItem],
    scope: Option<&str>,
    show_owner: impl Fn(&str) -> String,
) -> String {
    let mut out = String::from(HEADER);
    if let Some(owner) = scope {
        out.push_str(&format!("{SCOPE_MARK}{owner} -->\n"));
    }
    for p in Priority::ALL {
        out.push_str(&format!("\n## {}\n\n", section_title(p)));
        for item in items.iter().filter(|i| i.priority == p) {
            out.push_str(&render_line(item, &show_owner));
            out.push('\n');
        }
    }
    out
}

/// One item under its priority heading, as a baseline keeps it: parsing it
/// back gives the item, as a line of the file would.
pub fn baseline_text(item: &TodoItem) -> String {
    format!(
        "## {}\n{}",
        section_title(item.priority),
        render_line(item, &|o: &str| o.to_string())
    )
}

/// The item a baseline text holds (see [`baseline_text`]).
pub fn from_baseline(text: &str) -> Option<TodoItem> {
    parse(text).ok()?.into_iter().next().map(|l| l.item)
}

/// The owner a file is kept for, from its `<!-- quorum:scope owner:X -->`
/// line; `None` when it holds every owner's items.
pub fn scope(text: &str) -> Result<Option<String>, String> {
    for raw in text.lines() {
        let t = raw.trim();
        if let Some(rest) = t.strip_prefix(SCOPE_MARK) {
            let owner = rest
                .strip_suffix("-->")
                .map(str::trim)
                .filter(|o| !o.is_empty() && !o.contains(char::is_whitespace))
                .ok_or_else(|| {
                    format!("`{t}` is not a scope line; it should look like {SCOPE_MARK}cto -->")
                })?;
            return Ok(Some(owner.to_lowercase()));
        }
    }
    Ok(None)
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
    let body = rest.trim();
    let task = check_task(body.trim_start_matches("**VERIFY**:").trim()).map_err(|e| e.0)?;
    // `**VERIFY**:` is done and awaiting verification, even in an unticked
    // box (the seed's own style); to reopen, untick and drop the prefix.
    let checked = checked || (body.starts_with("**VERIFY**:") && !verified);
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

/// One item merged three ways, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// What both sides should now show: each field as the side that changed
    /// it has it (or as both have it).
    Merged(TodoItem),
    /// Both sides changed these fields, to different values: `(field, the
    /// file's value, Quorum's value)`.
    Conflict(Vec<(&'static str, String, String)>),
}

fn state(i: &TodoItem) -> &'static str {
    match (i.checked, i.verified) {
        (false, _) => "open",
        (true, false) => "done",
        (true, true) => "verified",
    }
}

/// Merge the file's version of an item with Quorum's, given `base`, what
/// both showed at the last export, import or sync. A field changed on one
/// side takes that side's value; a field changed on both sides to different
/// values is a conflict, and then neither side is changed. A line that names
/// no owner leaves the owner as it was.
pub fn merge(base: &TodoItem, file: &TodoItem, quorum: &TodoItem) -> Merge {
    fn pick<T: PartialEq + Clone>(
        name: &'static str,
        base: &T,
        file: &T,
        quorum: &T,
        show: impl Fn(&T) -> String,
        conflicts: &mut Vec<(&'static str, String, String)>,
    ) -> T {
        if file == base || file == quorum {
            quorum.clone()
        } else if quorum == base {
            file.clone()
        } else {
            conflicts.push((name, show(file), show(quorum)));
            quorum.clone()
        }
    }
    let mut conflicts = Vec::new();
    let c = &mut conflicts;
    let file_owner = file.owner.clone().or_else(|| base.owner.clone());
    let task = pick(
        "task",
        &base.task,
        &file.task,
        &quorum.task,
        |t| format!("\"{t}\""),
        c,
    );
    let owner = pick(
        "owner",
        &base.owner,
        &file_owner,
        &quorum.owner,
        |o| o.clone().unwrap_or_default(),
        c,
    );
    let due = pick(
        "due",
        &base.due,
        &file.due,
        &quorum.due,
        |d| d.map_or("none".to_string(), |d| d.to_string()),
        c,
    );
    let priority = pick(
        "priority",
        &base.priority,
        &file.priority,
        &quorum.priority,
        |p| p.to_string(),
        c,
    );
    // Done-and-verified and done-awaiting-verification are both a ticked box.
    let checked = pick(
        "state",
        &base.checked,
        &file.checked,
        &quorum.checked,
        |_| String::new(),
        c,
    );
    if let Some(s) = conflicts.iter_mut().find(|(n, _, _)| *n == "state") {
        *s = ("state", state(file).to_string(), state(quorum).to_string());
    }
    if !conflicts.is_empty() {
        return Merge::Conflict(conflicts);
    }
    let verified = if checked == quorum.checked {
        quorum.verified
    } else {
        file.verified
    };
    Merge::Merged(TodoItem {
        id: quorum.id,
        task,
        owner,
        due,
        priority,
        checked,
        verified: checked && verified,
    })
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
        let text = render(&items, None, |o| o.to_uppercase());
        assert!(
            text.contains(
                "- [ ] Evaluate pgvector [Owner: CTO] (due 2026-12-01) <!-- quorum:42 -->"
            ),
            "{text}"
        );
        assert!(text.contains("- [x] **VERIFY**: Rotate keys (all of them) [Owner: CTO] (due 2026-12-01) (needs verification) <!-- quorum:43 -->"), "{text}");
        let back: Vec<TodoItem> = parse(&text).unwrap().into_iter().map(|l| l.item).collect();
        assert_eq!(back, items);
        let again = render(&back, None, |o| o.to_uppercase());
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

    #[test]
    fn the_seeds_unticked_verify_lines_are_done_and_awaiting_verification() {
        let text = "- [ ] **VERIFY**: Netlify configuration (`netlify.toml`) (needs verification)\n- [ ] **VERIFY**: Branch protection rules\n- [ ] Deployment docs (needs verification)\n- [ ] Conduct security audits\n";
        let items: Vec<TodoItem> = parse(text).unwrap().into_iter().map(|l| l.item).collect();
        let states: Vec<(&str, bool, bool)> = items
            .iter()
            .map(|i| (i.task.as_str(), i.checked, i.verified))
            .collect();
        assert_eq!(
            states,
            [
                ("Netlify configuration (`netlify.toml`)", true, false),
                ("Branch protection rules", true, false),
                // Only the prefix says so: an unticked line without it is open.
                ("Deployment docs", false, false),
                ("Conduct security audits", false, false),
            ]
        );
    }

    #[test]
    fn a_file_kept_for_one_owner_says_so_under_its_title() {
        let text = render(&[], Some("cto"), |o| o.to_uppercase());
        assert!(
            text.contains("\n<!-- quorum:scope owner:cto -->\n"),
            "{text}"
        );
        assert_eq!(scope(&text), Ok(Some("cto".to_string())));
        assert_eq!(scope(&render(&[], None, |o| o.to_string())), Ok(None));
        assert!(scope("<!-- quorum:scope owner: -->").is_err());
    }

    #[test]
    fn a_baseline_text_gives_back_its_item() {
        let i = item(43, "Rotate keys (all of them)", Priority::Low, true, false);
        assert_eq!(from_baseline(&baseline_text(&i)), Some(i));
    }

    fn merged(base: &TodoItem, file: &TodoItem, quorum: &TodoItem) -> TodoItem {
        match merge(base, file, quorum) {
            Merge::Merged(m) => m,
            Merge::Conflict(c) => panic!("unexpected conflict {c:?}"),
        }
    }

    #[test]
    fn a_change_on_one_side_wins_and_an_unchanged_side_never_overwrites_it() {
        let base = item(1, "Evaluate pgvector", Priority::High, false, false);
        let lowered = TodoItem {
            priority: Priority::Medium,
            ..base.clone()
        };
        // Quorum changed, the file is stale: Quorum's change stays.
        assert_eq!(merged(&base, &base, &lowered), lowered);
        // The file changed, Quorum did not: the file's change wins.
        assert_eq!(merged(&base, &lowered, &base), lowered);
        // Both made the same change: no conflict.
        assert_eq!(merged(&base, &lowered, &lowered), lowered);
    }

    #[test]
    fn changes_to_different_fields_on_each_side_are_both_kept() {
        let base = item(1, "Evaluate pgvector", Priority::High, false, false);
        let file = TodoItem {
            task: "Evaluate pgvector and pgvecto.rs".to_string(),
            checked: true,
            ..base.clone()
        };
        let quorum = TodoItem {
            priority: Priority::Low,
            ..base.clone()
        };
        assert_eq!(
            merged(&base, &file, &quorum),
            TodoItem {
                task: "Evaluate pgvector and pgvecto.rs".to_string(),
                priority: Priority::Low,
                checked: true,
                ..base
            }
        );
    }

    #[test]
    fn the_same_field_changed_differently_on_both_sides_is_a_conflict_naming_both_values() {
        let base = item(1, "Evaluate pgvector", Priority::High, false, false);
        let file = TodoItem {
            priority: Priority::Low,
            checked: true,
            ..base.clone()
        };
        let quorum = TodoItem {
            priority: Priority::Medium,
            ..base.clone()
        };
        assert_eq!(
            merge(&base, &file, &quorum),
            Merge::Conflict(vec![("priority", "low".to_string(), "medium".to_string())])
        );
    }

    #[test]
    fn a_line_without_an_owner_leaves_the_owner_as_it_was() {
        let base = item(1, "Evaluate pgvector", Priority::High, false, false);
        let file = TodoItem {
            owner: None,
            ..base.clone()
        };
        let quorum = TodoItem {
            owner: Some("ceo".to_string()),
            ..base.clone()
        };
        assert_eq!(merged(&base, &file, &quorum), quorum);
    }
}
