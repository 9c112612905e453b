//! TODO.md both ways: export action items in the seed's style, import what
//! a person changed, and sync (both ways at once).
//!
//! Each file written or read through here keeps a baseline in the store:
//! every item as the file and Quorum both showed it at the last export (to a
//! file), import or sync. Import and sync merge three ways against it (see
//! [`todo::merge`]): a change on one side wins, a change on both sides is a
//! conflict that is reported and leaves both sides as they are, and a stale
//! line never overwrites a newer change made in Quorum.

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
    /// Lines without a marker that repeat an existing item (same task and
    /// owner), so they were matched to it instead of adding another.
    pub matched: Vec<String>,
    pub conflicts: Vec<String>,
}

impl std::fmt::Display for TodoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} marked done, {} reopened",
            self.created, self.updated, self.done, self.reopened
        )?;
        if !self.matched.is_empty() {
            write!(
                f,
                "; {} line{} matched an existing item instead of adding one:",
                self.matched.len(),
                if self.matched.len() == 1 { "" } else { "s" }
            )?;
            for m in &self.matched {
                write!(f, "\n- {m}")?;
            }
        }
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

/// Whether the file's line shows the item as Quorum does (a line that names
/// no owner agrees on the owner).
fn agrees(file: &TodoItem, quorum: &TodoItem) -> bool {
    let file = TodoItem {
        owner: file.owner.clone().or_else(|| quorum.owner.clone()),
        ..file.clone()
    };
    fields(&file) == fields(quorum)
}

/// How the two sides differ, for a conflict report.
fn differences(file: &TodoItem, quorum: &TodoItem) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if file.task != quorum.task {
        out.push((
            "task",
            format!("\"{}\"", file.task),
            format!("\"{}\"", quorum.task),
        ));
    }
    if file.owner.is_some() && file.owner != quorum.owner {
        let o = |o: &Option<String>| o.clone().unwrap_or_default();
        out.push(("owner", o(&file.owner), o(&quorum.owner)));
    }
    if file.due != quorum.due {
        let d = |d: Option<NaiveDate>| d.map_or("none".to_string(), |d| d.to_string());
        out.push(("due", d(file.due), d(quorum.due)));
    }
    if file.priority != quorum.priority {
        out.push((
            "priority",
            file.priority.to_string(),
            quorum.priority.to_string(),
        ));
    }
    if file.checked != quorum.checked {
        let s = |i: &TodoItem| if i.checked { "done" } else { "open" }.to_string();
        out.push(("state", s(file), s(quorum)));
    }
    out
}

fn describe(fields: &[(&'static str, String, String)]) -> String {
    fields
        .iter()
        .map(|(name, file, quorum)| format!("{name}: file {file}, Quorum {quorum}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Import changes Quorum only; sync changes both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Import,
    Sync,
}

/// What reading a file against Quorum and its baseline did.
struct Reconciled {
    lines: Vec<TodoLine>,
    /// The file's text with a marker on each line that became or matched an item.
    text: String,
    report: TodoReport,
    baseline: HashMap<i64, TodoItem>,
    /// Items left as they are on both sides.
    conflicted: HashSet<i64>,
    /// The baseline each item the file now agrees with Quorum on should get
    /// (import: the file's line; sync rewrites the file and decides itself).
    agreed: Vec<(i64, TodoItem)>,
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

/// The owner a file's header keeps it to, as an owner key.
fn scope_of(text: &str) -> Result<Option<String>> {
    let Some(owner) = todo::scope(text).map_err(Error::user)? else {
        return Ok(None);
    };
    owner
        .parse::<Owner>()
        .map(|o| Some(o.to_string()))
        .map_err(|e| Error::user(format!("the file's scope line: {e}")))
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
        Ok(todo::render(&items, owner, self.show_owner()))
    }

    /// Export to `file` (whose text is `current`, if it exists): the TODO.md
    /// text to write, with the baseline recorded. A file kept for one owner
    /// stays so unless `owner` says otherwise. Edits in the file that Quorum
    /// has not seen yet are not overwritten unless `force`.
    pub async fn export_to(
        &self,
        workspace: &str,
        file: &str,
        current: Option<&str>,
        owner: Option<&str>,
        force: bool,
    ) -> Result<String> {
        let scope = match owner {
            Some(o) => Some(o.to_string()),
            None => current.map(scope_of).transpose()?.flatten(),
        };
        if let Some(current) = current.filter(|_| !force) {
            let pending = self.unseen_edits(workspace, file, current).await?;
            if !pending.is_empty() {
                let list: Vec<String> = pending.iter().map(usize::to_string).collect();
                return user_err(format!(
                    "the file has {} edit{} Quorum has not seen (line{} {}); run `quorum todo sync` first, or pass --force to overwrite {}",
                    pending.len(),
                    if pending.len() == 1 { "" } else { "s" },
                    if pending.len() == 1 { "" } else { "s" },
                    list.join(", "),
                    if pending.len() == 1 { "it" } else { "them" },
                ));
            }
        }
        let items: Vec<TodoItem> = self
            .rows(workspace, scope.as_deref())
            .await?
            .iter()
            .map(to_item)
            .collect();
        let baseline: Vec<(i64, String)> = items
            .iter()
            .filter_map(|i| Some((i.id?, todo::baseline_text(i))))
            .collect();
        self.store
            .replace_todo_snapshot(workspace, file, &baseline)
            .await?;
        Ok(todo::render(&items, scope.as_deref(), self.show_owner()))
    }

    /// Line numbers of the file's edits not yet in Quorum: new lines, lines
    /// changed since the baseline (or, without one, differing from Quorum),
    /// and lines that cannot be read.
    async fn unseen_edits(&self, workspace: &str, file: &str, text: &str) -> Result<Vec<usize>> {
        let (lines, errors) = todo::parse_all(text);
        let baseline = self.baseline(workspace, file).await?;
        let mut pending: Vec<usize> = errors.iter().map(|(n, _)| *n).collect();
        for l in &lines {
            let Some(id) = l.item.id else {
                pending.push(l.line);
                continue;
            };
            let unseen = match baseline.get(&id) {
                Some(base) => !agrees(&l.item, base),
                None => match self.store.action(workspace, id).await? {
                    Some(row) => !agrees(&l.item, &to_item(&row)),
                    None => false,
                },
            };
            if unseen {
                pending.push(l.line);
            }
        }
        pending.sort_unstable();
        Ok(pending)
    }

    async fn baseline(&self, workspace: &str, file: &str) -> Result<HashMap<i64, TodoItem>> {
        Ok(self
            .store
            .todo_snapshot(workspace, file)
            .await?
            .into_iter()
            .filter_map(|(id, text)| Some((id, todo::from_baseline(&text)?)))
            .collect())
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

    /// An existing item that a line without a marker repeats: same task and
    /// owner, not already claimed by another line of the file.
    async fn same_item(
        &self,
        actor: &Actor,
        item: &TodoItem,
        default_owner: Option<&str>,
        claimed: &HashSet<i64>,
    ) -> Result<Option<ActionRow>> {
        let Some(owner) = item.owner.as_deref().or(default_owner) else {
            return Ok(None);
        };
        let owner = owner
            .parse::<Owner>()
            .map_err(|e| Error::user(e.0))?
            .to_string();
        Ok(self
            .store
            .actions_with_task(&actor.workspace, &owner, &item.task)
            .await?
            .into_iter()
            .find(|a| !claimed.contains(&a.id)))
    }

    /// Read the file against Quorum and the file's baseline: create new
    /// lines, match repeated ones, and apply what merges cleanly.
    async fn reconcile(
        &self,
        actor: &Actor,
        file: &str,
        text: &str,
        default_owner: Option<&str>,
        mode: Mode,
        now: DateTime<Utc>,
    ) -> Result<Reconciled> {
        let (lines, existing) = self.check(actor, text, default_owner).await?;
        let baseline = self.baseline(&actor.workspace, file).await?;
        let mut report = TodoReport::default();
        let mut out = text.to_string();
        let mut claimed: HashSet<i64> = lines.iter().filter_map(|l| l.item.id).collect();
        let mut conflicted = HashSet::new();
        let mut agreed = Vec::new();
        for l in &lines {
            let current = match l.item.id.and_then(|id| existing.get(&id)) {
                Some(current) => current.clone(),
                None => match self
                    .same_item(actor, &l.item, default_owner, &claimed)
                    .await?
                {
                    Some(found) => {
                        report.matched.push(format!(
                            "line {}: quorum:{} {}",
                            l.line, found.id, found.task
                        ));
                        out = todo::add_marker(&out, l.line, found.id);
                        found
                    }
                    None => {
                        let row = self
                            .create(actor, &l.item, default_owner, &mut report, now)
                            .await?;
                        out = todo::add_marker(&out, l.line, row.id);
                        claimed.insert(row.id);
                        let owner = l.item.owner.clone().or(Some(row.owner.clone()));
                        agreed.push((
                            row.id,
                            TodoItem {
                                id: Some(row.id),
                                owner,
                                ..l.item.clone()
                            },
                        ));
                        continue;
                    }
                },
            };
            claimed.insert(current.id);
            let quorum = to_item(&current);
            let file_item = TodoItem {
                id: Some(current.id),
                owner: l.item.owner.clone().or_else(|| quorum.owner.clone()),
                ..l.item.clone()
            };
            let base = match (baseline.get(&current.id), mode) {
                (Some(base), _) => base.clone(),
                // Without a baseline an import takes the file's version.
                (None, Mode::Import) => quorum.clone(),
                (None, Mode::Sync) if agrees(&file_item, &quorum) => quorum.clone(),
                (None, Mode::Sync) => {
                    report.conflicts.push(format!(
                        "line {}: quorum:{} differs from Quorum and this file has no earlier export, import or sync to tell which side changed ({}); run `quorum todo import` to take the file's version, or edit the line to match",
                        l.line,
                        current.id,
                        describe(&differences(&file_item, &quorum))
                    ));
                    conflicted.insert(current.id);
                    continue;
                }
            };
            match todo::merge(&base, &file_item, &quorum) {
                todo::Merge::Merged(m) => {
                    self.apply(actor, &current, &m, &mut report, now).await?;
                    agreed.push((current.id, file_item));
                }
                todo::Merge::Conflict(fields) => {
                    report.conflicts.push(format!(
                        "line {}: quorum:{} changed in both TODO.md and Quorum since the last sync ({})",
                        l.line,
                        current.id,
                        describe(&fields)
                    ));
                    conflicted.insert(current.id);
                }
            }
        }
        Ok(Reconciled {
            lines,
            text: out,
            report,
            baseline,
            conflicted,
            agreed,
        })
    }

    /// Apply what a person changed in the file, merged against what the file
    /// showed at its last export, import or sync. Returns the file's text
    /// with a marker added to each line that became (or matched) an item, so
    /// importing the same file again changes nothing.
    pub async fn import(
        &self,
        actor: &Actor,
        file: &str,
        text: &str,
        default_owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, TodoReport)> {
        let scope = scope_of(text)?;
        let default_owner = default_owner.or(scope.as_deref());
        let r = self
            .reconcile(actor, file, text, default_owner, Mode::Import, now)
            .await?;
        // The file is not rewritten: its lines are the new baseline, so a
        // later sync still sees which side changed what.
        let lines: Vec<(i64, String)> = r
            .agreed
            .iter()
            .map(|(id, item)| (*id, todo::baseline_text(item)))
            .collect();
        self.store
            .save_todo_snapshot(&actor.workspace, file, &lines)
            .await?;
        Ok((r.text, r.report))
    }

    /// Both ways: apply the file's changes, keep Quorum's, report items
    /// changed on both sides, and return the file's new text. The file keeps
    /// the scope its header records; `owner` may only repeat it.
    pub async fn sync(
        &self,
        actor: &Actor,
        file: &str,
        text: &str,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, TodoReport)> {
        let scope = match (scope_of(text)?, owner) {
            (Some(kept), Some(asked)) if kept != asked => {
                return user_err(format!(
                    "the file is kept for {kept} (its header says so); sync it without --owner, or export it again with --owner {asked}"
                ));
            }
            (kept, asked) => kept.or(asked.map(str::to_string)),
        };
        let r = self
            .reconcile(actor, file, text, scope.as_deref(), Mode::Sync, now)
            .await?;
        // Write Quorum's state; each conflict keeps the file's own line,
        // under the file's section (its priority is part of the file's side).
        let raw: Vec<&str> = r.text.lines().collect();
        let kept: HashMap<i64, (&str, Priority)> = todo::parse_all(&r.text)
            .0
            .iter()
            .filter_map(|l| Some((l.item.id?, (*raw.get(l.line - 1)?, l.item.priority))))
            .filter(|(id, _)| r.conflicted.contains(id))
            .collect();
        let in_file: HashSet<i64> = r
            .lines
            .iter()
            .filter_map(|l| l.item.id)
            .chain(r.agreed.iter().map(|(id, _)| *id))
            .chain(r.conflicted.iter().copied())
            .collect();
        let rows = self.rows(&actor.workspace, None).await?;
        let items: Vec<TodoItem> = rows
            .iter()
            .filter(|a| in_file.contains(&a.id) || scope.as_deref().is_none_or(|o| a.owner == o))
            .map(to_item)
            .collect();
        let mut baseline = Vec::new();
        let mut shown = Vec::with_capacity(items.len());
        for mut item in items {
            let Some(id) = item.id else { continue };
            match kept.get(&id) {
                Some((_, file_priority)) => {
                    // Still unresolved: the old baseline stays, if there was one.
                    if let Some(old) = r.baseline.get(&id) {
                        baseline.push((id, todo::baseline_text(old)));
                    }
                    item.priority = *file_priority;
                }
                None => baseline.push((id, todo::baseline_text(&item))),
            }
            shown.push(item);
        }
        let rendered = todo::render(&shown, scope.as_deref(), self.show_owner());
        let mut out = String::new();
        for line in rendered.lines() {
            let id = todo::parse(line)
                .ok()
                .and_then(|v| v.into_iter().next())
                .and_then(|l| l.item.id);
            match id.and_then(|id| kept.get(&id)) {
                Some((file_line, _)) => out.push_str(file_line),
                None => out.push_str(line),
            }
            out.push('\n');
        }
        self.store
            .replace_todo_snapshot(&actor.workspace, file, &baseline)
            .await?;
        Ok((out, r.report))
    }
}
