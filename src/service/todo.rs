//! TODO.md both ways: export action items in the seed's style, import what
//! a person changed, and sync (both, reporting items changed on both sides
//! since the last sync instead of overwriting either).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::command::action::ActionFields;
use crate::config::Config;
use crate::domain::action::{Owner, Priority};
use crate::domain::todo::{self, TodoItem, TodoLine};
use crate::error::{Error, Result, user_err};
use crate::service::actions::Actions;
use crate::service::meetings::Actor;
use crate::store::{ActionFilter, ActionRow, Store};

pub struct Todo<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
}

/// What an import or sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TodoReport {
    pub created: usize,
    pub updated: usize,
    pub done: usize,
    pub reopened: usize,
    pub conflicts: Vec<String>,
}

impl std::fmt::Display for TodoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} marked done, {} reopened",
            self.created, self.updated, self.done, self.reopened
        )?;
        if !self.conflicts.is_empty() {
            write!(
                f,
                "; {} conflict{} (left as they are on both sides):",
                self.conflicts.len(),
                if self.conflicts.len() == 1 { "" } else { "s" }
            )?;
            for c in &self.conflicts {
                write!(f, "\n- {c}")?;
            }
        }
        Ok(())
    }
}

/// The fields a person edits, for comparing two versions of an item.
fn fields(i: &TodoItem) -> (String, Option<String>, Option<NaiveDate>, Priority, bool) {
    (
        i.task.clone(),
        i.owner.clone(),
        i.due,
        i.priority,
        i.checked,
    )
}

fn to_item(a: &ActionRow) -> TodoItem {
    TodoItem {
        id: Some(a.id),
        task: a.task.clone(),
        owner: Some(a.owner.clone()),
        due: a
            .due_date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        priority: a.priority.parse().unwrap_or(Priority::Medium),
        checked: a.status == "done" || a.status == "verified",
        verified: a.status == "verified",
    }
}

impl Todo<'_> {
    fn actions(&self) -> Actions {
        Actions {
            store: self.store.clone(),
        }
    }

    fn show_owner(&self) -> impl Fn(&str) -> String + '_ {
        |o: &str| {
            let role = self.config.org.get(o).is_some()
                || self.config.categories.iter().any(|(_, r)| r == o);
            if role {
                o.to_uppercase()
            } else {
                o.to_string()
            }
        }
    }

    async fn rows(&self, workspace: &str, owner: Option<&str>) -> Result<Vec<ActionRow>> {
        let filter = ActionFilter {
            owner: owner.map(str::to_string),
            ..ActionFilter::default()
        };
        let mut rows = self.store.list_actions(workspace, &filter).await?;
        rows.sort_by_key(|a| a.id);
        Ok(rows)
    }

    /// The TODO.md text of a workspace's items (of one owner, if given).
    pub async fn export(&self, workspace: &str, owner: Option<&str>) -> Result<String> {
        let items: Vec<TodoItem> = self
            .rows(workspace, owner)
            .await?
            .iter()
            .map(to_item)
            .collect();
        Ok(todo::render(&items, self.show_owner()))
    }

    /// Parse `text` and check every line against the store; nothing is
    /// written when any line is bad.
    async fn check(
        &self,
        actor: &Actor,
        text: &str,
        default_owner: Option<&str>,
    ) -> Result<(Vec<TodoLine>, HashMap<i64, ActionRow>)> {
        let (lines, parse_errors) = todo::parse_all(text);
        let mut errors: Vec<(usize, String)> = parse_errors;
        let mut existing = HashMap::new();
        for l in &lines {
            if let Some(owner) = l.item.owner.as_deref().or(default_owner) {
                if let Err(e) = owner.parse::<Owner>() {
                    errors.push((l.line, e.to_string()));
                }
            } else if l.item.id.is_none() {
                errors.push((
                    l.line,
                    "a new item needs an owner: add [Owner: CTO] (or pass --owner)".to_string(),
                ));
            }
            if let Some(id) = l.item.id {
                match self.store.action(&actor.workspace, id).await? {
                    Some(a) => {
                        existing.insert(id, a);
                    }
                    None => {
                        errors.push((l.line, format!("quorum:{id} is not an action item here")))
                    }
                }
            }
        }
        if !errors.is_empty() {
            errors.sort();
            let list: Vec<String> = errors
                .iter()
                .map(|(n, e)| format!("line {n}: {e}"))
                .collect();
            return user_err(format!(
                "TODO.md has {} bad line{}; nothing was changed:\n{}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join("\n")
            ));
        }
        Ok((lines, existing))
    }

    /// Make the item `current` look like `wanted`, through the same use cases
    /// as the chat commands (so the audit trail and rules apply).
    async fn apply(
        &self,
        actor: &Actor,
        current: &ActionRow,
        wanted: &TodoItem,
        report: &mut TodoReport,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let a = self.actions();
        let have = to_item(current);
        let mut f = ActionFields::default();
        if wanted.task != have.task {
            f.task = Some(wanted.task.clone());
        }
        if let Some(o) = &wanted.owner {
            if have.owner.as_deref() != Some(o.as_str()) {
                f.owner = Some(
                    o.parse()
                        .map_err(|e: crate::domain::meeting::ValueError| Error::user(e.0))?,
                );
            }
        }
        if wanted.due != have.due {
            f.due = Some(wanted.due.map_or("none".to_string(), |d| d.to_string()));
        }
        if wanted.priority != have.priority {
            f.priority = Some(wanted.priority);
        }
        if f.task.is_some() || f.owner.is_some() || f.due.is_some() || f.priority.is_some() {
            a.edit(self.config, actor, current.id, f, now).await?;
            report.updated += 1;
        }
        if wanted.checked && !have.checked {
            a.done(actor, current.id, now).await?;
            report.done += 1;
        } else if !wanted.checked && have.checked {
            a.reopen(actor, current.id, "unticked in TODO.md", now)
                .await?;
            report.reopened += 1;
        }
        Ok(())
    }

    async fn create(
        &self,
        actor: &Actor,
        item: &TodoItem,
        default_owner: Option<&str>,
        report: &mut TodoReport,
        now: DateTime<Utc>,
    ) -> Result<ActionRow> {
        let owner = item.owner.as_deref().or(default_owner).unwrap_or_default();
        let f = ActionFields {
            task: Some(item.task.clone()),
            owner: Some(
                owner
                    .parse()
                    .map_err(|e: crate::domain::meeting::ValueError| Error::user(e.0))?,
            ),
            due: item.due.map(|d| d.to_string()),
            priority: Some(item.priority),
            meeting: None,
            decision: None,
        };
        let row = self.actions().add(self.config, actor, f, now).await?;
        report.created += 1;
        if item.checked {
            self.actions().done(actor, row.id, now).await?;
            report.done += 1;
        }
        Ok(row)
    }

    /// Apply what a person changed in the file. Returns the file's text with
    /// a marker added to each line that became a new item, so importing the
    /// same file again changes nothing.
    pub async fn import(
        &self,
        actor: &Actor,
        text: &str,
        default_owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, TodoReport)> {
        let (lines, existing) = self.check(actor, text, default_owner).await?;
        let mut report = TodoReport::default();
        let mut out = text.to_string();
        for l in &lines {
            match l.item.id.and_then(|id| existing.get(&id)) {
                Some(current) => {
                    self.apply(actor, current, &l.item, &mut report, now)
                        .await?
                }
                None => {
                    let row = self
                        .create(actor, &l.item, default_owner, &mut report, now)
                        .await?;
                    out = todo::add_marker(&out, l.line, row.id);
                }
            }
        }
        Ok((out, report))
    }

    /// Both ways: apply the file's changes, report items changed on both
    /// sides since the last sync, and return the file's new text.
    pub async fn sync(
        &self,
        actor: &Actor,
        file: &str,
        text: &str,
        default_owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, TodoReport)> {
        let (lines, existing) = self.check(actor, text, default_owner).await?;
        let snapshot: HashMap<i64, TodoItem> = self
            .store
            .todo_snapshot(&actor.workspace, file)
            .await?
            .into_iter()
            .filter_map(|(id, line)| {
                todo::parse(&line)
                    .ok()?
                    .into_iter()
                    .next()
                    .map(|l| (id, l.item))
            })
            .collect();
        let mut report = TodoReport::default();
        let mut kept: HashMap<i64, String> = HashMap::new();
        let raw: Vec<&str> = text.lines().collect();
        for l in &lines {
            let Some(current) = l.item.id.and_then(|id| existing.get(&id)) else {
                self.create(actor, &l.item, default_owner, &mut report, now)
                    .await?;
                continue;
            };
            let in_db = to_item(current);
            let file_changed = snapshot
                .get(&current.id)
                .is_none_or(|s| fields(s) != fields(&l.item));
            let db_changed = snapshot
                .get(&current.id)
                .is_some_and(|s| fields(s) != fields(&in_db));
            if file_changed && db_changed && fields(&l.item) != fields(&in_db) {
                report.conflicts.push(format!(
                    "line {}: quorum:{} changed in both TODO.md and Quorum since the last sync (file: \"{}\", Quorum: \"{}\")",
                    l.line,
                    current.id,
                    l.item.task,
                    crate::app::action_line(current)
                ));
                kept.insert(
                    current.id,
                    raw.get(l.line - 1).copied().unwrap_or_default().to_string(),
                );
            } else if file_changed {
                self.apply(actor, current, &l.item, &mut report, now)
                    .await?;
            }
        }
        // Write Quorum's state, keeping the file's own line for each conflict.
        let rows = self.rows(&actor.workspace, None).await?;
        let in_file: HashSet<i64> = lines.iter().filter_map(|l| l.item.id).collect();
        let scoped: Vec<&ActionRow> = rows
            .iter()
            .filter(|a| in_file.contains(&a.id) || default_owner.is_none_or(|o| a.owner == o))
            .collect();
        let items: Vec<TodoItem> = scoped.iter().map(|a| to_item(a)).collect();
        let mut out = String::new();
        let rendered = todo::render(&items, self.show_owner());
        let mut snapshot_lines = Vec::new();
        let mut section = String::new();
        for line in rendered.lines() {
            if line.starts_with("## ") {
                section = line.to_string();
            }
            let id = todo::parse(line)
                .ok()
                .and_then(|v| v.into_iter().next())
                .and_then(|l| l.item.id);
            match id.and_then(|id| kept.get(&id).map(|k| (id, k))) {
                Some((_, file_line)) => out.push_str(file_line),
                None => {
                    if let Some(id) = id {
                        // Kept under its heading, so the priority is part of it.
                        snapshot_lines.push((id, format!("{section}\n{line}")));
                    }
                    out.push_str(line);
                }
            }
            out.push('\n');
        }
        self.store
            .save_todo_snapshot(&actor.workspace, file, &snapshot_lines)
            .await?;
        Ok((out, report))
    }
}
