//! `quorum todo` and `quorum export decisions` through the real binary.

mod support;

use std::path::Path;

use support::{Console, run, temp_db};

fn seed(db: &Path, lines: &[&str]) {
    let mut c = Console::start(db, &[], &["--as", "cto", "--exit-on-eof"]);
    for l in lines {
        c.send(l);
    }
    let (status, out) = c.finish();
    assert!(status.success());
    assert!(!out.iter().any(|l| l.starts_with("error:")), "{out:#?}");
}

fn quorum(db: &Path, args: &[&str]) -> (i32, String, String) {
    let url = format!("sqlite://{}", db.display());
    run(args, &[("QUORUM_DATABASE_URL", &url)])
}

const ITEMS: [&str; 4] = [
    r#"/action add task:"Evaluate pgvector" owner:cto due:2026-12-01 priority:high"#,
    r#"/action add task:"Team training" owner:ceo priority:low"#,
    r#"/action add task:"Rotate keys" owner:cto"#,
    "/action done id:3",
];

#[test]
fn export_then_import_then_export_gives_the_same_file() {
    let (dir, db) = temp_db();
    seed(&db, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    let (code, _, err) = quorum(&db, &["todo", "export", "--out", f]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.contains("## High Priority\n\n- [ ] Evaluate pgvector [Owner: CTO] (due 2026-12-01) <!-- quorum:1 -->"), "{first}");
    assert!(
        first.contains(
            "- [x] **VERIFY**: Rotate keys [Owner: CTO] (needs verification) <!-- quorum:3 -->"
        ),
        "{first}"
    );
    let (code, out, _) = quorum(&db, &["todo", "import", f]);
    assert_eq!(code, 0);
    assert!(
        out.contains("0 created, 0 updated, 0 marked done, 0 reopened"),
        "{out}"
    );
    let (_, again, _) = quorum(&db, &["todo", "export"]);
    assert_eq!(again, first);
    let (_, cto_only, _) = quorum(&db, &["todo", "export", "--owner", "cto"]);
    assert!(!cto_only.contains("Team training") && cto_only.contains("Rotate keys"));
}

#[test]
fn import_applies_ticks_unticks_edits_and_new_lines_once() {
    let (dir, db) = temp_db();
    seed(&db, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    quorum(&db, &["todo", "export", "--out", f]);
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(
            "- [ ] Evaluate pgvector [Owner: CTO]",
            "- [x] Evaluate pgvector and pgvecto.rs [Owner: CTO]",
        )
        .replace("- [x] **VERIFY**: Rotate keys", "- [ ] Rotate keys")
        .replace(
            "## Low Priority\n",
            "## Low Priority\n\n- [ ] Plan AWS migration [Owner: CTO] (due 2027-01-15)\n",
        );
    std::fs::write(&file, &text).unwrap();
    let (code, out, err) = quorum(&db, &["todo", "import", f, "--as", "ana"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 created, 1 updated, 1 marked done, 1 reopened"),
        "{out}"
    );
    let marked = std::fs::read_to_string(&file).unwrap();
    assert!(
        marked.contains("- [ ] Plan AWS migration [Owner: CTO] (due 2027-01-15) <!-- quorum:4 -->"),
        "the new line gets its marker: {marked}"
    );
    let (_, out, _) = quorum(&db, &["todo", "import", f, "--as", "ana"]);
    assert!(
        out.contains("0 created, 0 updated, 0 marked done, 0 reopened"),
        "import is idempotent: {out}"
    );
    let mut c = Console::start(&db, &[], &["--exit-on-eof"]);
    c.send("/action show id:1");
    c.send("/action show id:3");
    let (_, lines) = c.finish();
    let all = lines.join("\n");
    assert!(
        all.contains(
            "Action item 1: Evaluate pgvector and pgvecto.rs [cto, high, due 2026-12-01, done]"
        ),
        "{all}"
    );
    assert!(
        all.contains("ana: marked done") && all.contains("ana: reopened: unticked in TODO.md"),
        "{all}"
    );
}

#[test]
fn a_file_with_bad_lines_changes_nothing_and_lists_each_bad_line() {
    let (dir, db) = temp_db();
    seed(&db, &ITEMS);
    let file = dir.path().join("TODO.md");
    std::fs::write(
        &file,
        "# TODO\n\n- [x] Evaluate pgvector <!-- quorum:1 -->\n- [?] Odd box\n- [ ] Ghost <!-- quorum:99 -->\n- [ ] Nobody owns this\n- [ ] Bad date [Owner: CTO] (due 2026-02-30)\n",
    )
    .unwrap();
    let (code, out, err) = quorum(&db, &["todo", "import", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err.trim(),
        "quorum: TODO.md has 4 bad lines; nothing was changed:\nline 4: the checkbox must be `[ ]` or `[x]`\nline 5: quorum:99 is not an action item here\nline 6: a new item needs an owner: add [Owner: CTO] (or pass --owner)\nline 7: `2026-02-30` is not a due date; write (due YYYY-MM-DD)"
    );
    let (_, export, _) = quorum(&db, &["todo", "export"]);
    assert!(
        export.contains("- [ ] Evaluate pgvector"),
        "line 3's tick was not applied: {export}"
    );
}

#[test]
fn sync_applies_one_sided_changes_and_reports_conflicts_without_overwriting() {
    let (dir, db) = temp_db();
    seed(&db, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    let (code, _, err) = quorum(&db, &["todo", "sync", f]);
    assert_eq!(code, 0, "a first sync writes the file: {err}");
    // Quorum side: item 2 renamed, item 1 re-prioritised.
    seed(
        &db,
        &[
            r#"/action edit id:2 task:"Team training (Q1)""#,
            "/action edit id:1 priority:medium",
        ],
    );
    // File side: item 2 renamed differently (a conflict), item 3 unticked (file only).
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("Team training", "Team workshop")
        .replace("- [x] **VERIFY**: Rotate keys", "- [ ] Rotate keys");
    std::fs::write(&file, text).unwrap();
    let (code, out, err) = quorum(&db, &["todo", "sync", f]);
    assert_eq!(code, 2, "conflicts are reported with a non-zero exit");
    assert!(out.contains("1 reopened; 1 conflict"), "{out}");
    assert!(
        out.contains("quorum:2 changed in both TODO.md and Quorum since the last sync"),
        "{out}"
    );
    assert!(err.contains("1 conflict(s) to resolve"), "{err}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.contains("- [ ] Team workshop [Owner: CEO] <!-- quorum:2 -->"),
        "the file's side of the conflict is kept: {after}"
    );
    assert!(
        after.contains("## Medium Priority\n\n- [ ] Evaluate pgvector"),
        "Quorum's one-sided change reaches the file: {after}"
    );
    assert!(
        after.contains("- [ ] Rotate keys [Owner: CTO] <!-- quorum:3 -->"),
        "{after}"
    );
    let (_, export, _) = quorum(&db, &["todo", "export"]);
    assert!(
        export.contains("Team training (Q1)"),
        "Quorum's side of the conflict is kept too: {export}"
    );
    // Resolving: make the file agree with Quorum, and the next sync is clean.
    std::fs::write(&file, after.replace("Team workshop", "Team training (Q1)")).unwrap();
    let (code, out, _) = quorum(&db, &["todo", "sync", f]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("conflict"), "{out}");
}

#[test]
fn the_decision_log_exports_as_markdown_csv_and_json() {
    let (_dir, db) = temp_db();
    seed(
        &db,
        &[
            r#"/decision record title:"Adopt PostgreSQL" category:tech-stack rationale:"Mature, with pgvector""#,
            r#"/decision record title:"Cut cloud spend" category:budget rationale:"Bill doubled" decided_by:cfo"#,
        ],
    );
    let (code, md, _) = quorum(&db, &["export", "decisions", "--format", "md"]);
    assert_eq!(code, 0);
    assert!(
        md.starts_with("# Decision log\n\n2 decisions.\n\n## 1. Adopt PostgreSQL\n"),
        "{md}"
    );
    assert!(md.contains("- Status: proposed"), "{md}");
    assert!(
        md.contains("- By: approved by cto\n- Recorded by: cto\n")
            && md.contains("- By: proposed by cto for cfo\n- Recorded by: cto\n"),
        "an attribution to the cfo is not an approval by the cfo: {md}"
    );
    let (_, csv, _) = quorum(&db, &["export", "decisions", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,date,title,category,status,decided_by,authority,recorded_by,meeting,supersedes,superseded_by,rationale,approved_by,rejected_by,reject_reason,settled_at"
        )
    );
    assert!(
        csv.contains(",proposed,cfo,cfo,cto,,,,Bill doubled,,,,\n"),
        "attributed to the cfo, approved by nobody yet: {csv}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .contains(",\"Mature, with pgvector\",cto,,,20"),
        "{csv}"
    );
    let (_, json, _) = quorum(
        &db,
        &[
            "export",
            "decisions",
            "--format",
            "json",
            "--since",
            "2000-01-01",
        ],
    );
    assert!(
        json.contains("\"title\": \"Cut cloud spend\"") && json.contains("\"authority\": \"cfo\""),
        "{json}"
    );
    assert!(
        json.contains("\"decided_by\": \"cfo\"")
            && json.contains("\"recorded_by\": \"")
            && json.contains("\"approved_by\": \"\""),
        "{json}"
    );
    let (code, _, err) = quorum(&db, &["export", "decisions", "--format", "pdf"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "quorum: --format: `pdf` is not an export format; use md, csv or json"
    );
    let (code, _, err) = quorum(&db, &["export", "decisions", "--since", "last week"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since: `last week` is not a date"), "{err}");
}

// --- Baselines, scope, VERIFY lines and repeated lines (issue 11) ---

/// A fresh database for one test: SQLite in `dir`, or with
/// QUORUM_TEST_BACKEND=postgres a new PostgreSQL database.
fn database(dir: &Path) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(support::core::test_database(dir))
}

fn at_url(url: &str, args: &[&str]) -> (i32, String, String) {
    run(args, &[("QUORUM_DATABASE_URL", url)])
}

/// Say these lines in chat (the console), as the CTO.
fn chat(url: &str, lines: &[&str]) {
    let mut c = Console::start_url(url, &[], &["--as", "cto", "--exit-on-eof"]);
    for l in lines {
        c.send(l);
    }
    let (status, out) = c.finish();
    assert!(status.success());
    assert!(!out.iter().any(|l| l.starts_with("error:")), "{out:#?}");
}

/// Item `id` as a TODO.md text shows it: its section and its task.
fn shown(text: &str, id: i64) -> Option<(String, String)> {
    let marker = format!(" <!-- quorum:{id} -->");
    let mut section = String::new();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("## ") {
            section = s.to_string();
        }
        if line.ends_with(&marker) {
            let task = line.get(6..)?.split(" [Owner:").next()?;
            return Some((section, task.to_string()));
        }
    }
    None
}

/// Item `id` as Quorum has it.
fn in_quorum(url: &str, id: i64) -> Option<(String, String)> {
    let (code, text, err) = at_url(url, &["todo", "export"]);
    assert_eq!(code, 0, "{err}");
    shown(&text, id)
}

/// Change the task of item `id` in the file, as a person would.
fn edit_task_in_file(file: &Path, id: i64, task: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let marker = format!(" <!-- quorum:{id} -->");
    let edited: Vec<String> = text
        .lines()
        .map(|line| match line.ends_with(&marker) {
            true => {
                let owner = line.find(" [Owner:").unwrap();
                format!("{}{task}{}", &line[..6], &line[owner..])
            }
            false => line.to_string(),
        })
        .collect();
    assert_ne!(
        edited.join("\n"),
        text.trim_end(),
        "item {id} is in the file"
    );
    std::fs::write(file, edited.join("\n") + "\n").unwrap();
}

#[test]
fn a_sync_after_export_and_import_keeps_an_edit_made_in_quorum() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    assert_eq!(at_url(&url, &["todo", "export", "--out", f]).0, 0);
    assert_eq!(at_url(&url, &["todo", "import", f]).0, 0);
    chat(&url, &["/action edit id:1 priority:medium"]);
    let (code, out, err) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("conflict"), "{out}");
    let high_to_medium = Some((
        "Medium Priority".to_string(),
        "Evaluate pgvector".to_string(),
    ));
    assert_eq!(
        in_quorum(&url, 1),
        high_to_medium,
        "the stale file did not revert it"
    );
    assert_eq!(
        shown(&std::fs::read_to_string(&file).unwrap(), 1),
        high_to_medium,
        "the file now shows it"
    );
}

/// How a file came to exist and agree with Quorum.
#[derive(Debug, Clone, Copy)]
enum Start {
    ExportOut,
    ExportOutThenImport,
    StdoutThenImport,
    FirstSync,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// An edit in chat.
    Chat,
    /// An edit of the file.
    File,
    /// A `todo` command.
    Run(&'static str),
}

const ORIGINAL: &str = "Evaluate pgvector";
const CHAT_TASK: &str = "Evaluate Qdrant";
const FILE_TASK: &str = "Evaluate pgvector and pgvecto.rs";

fn start(url: &str, file: &Path, how: Start) {
    let f = file.to_str().unwrap();
    let ok = |args: &[&str]| {
        let (code, out, err) = at_url(url, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    match how {
        Start::ExportOut => {
            ok(&["todo", "export", "--out", f]);
        }
        Start::ExportOutThenImport => {
            ok(&["todo", "export", "--out", f]);
            ok(&["todo", "import", f]);
        }
        Start::StdoutThenImport => {
            std::fs::write(file, ok(&["todo", "export"])).unwrap();
            ok(&["todo", "import", f]);
        }
        Start::FirstSync => {
            ok(&["todo", "sync", f]);
        }
    }
}

/// Every order of: an edit in chat, an edit of the file, and one of import,
/// sync or export; then a sync to settle. Whatever the order, no edit is
/// silently lost: the file and Quorum end up agreeing with every edit, or
/// the sync reports a conflict and each side keeps its own.
#[test]
fn every_interleaving_of_export_import_sync_and_edits_keeps_every_edit() {
    let starts = [
        Start::ExportOut,
        Start::ExportOutThenImport,
        Start::StdoutThenImport,
        Start::FirstSync,
    ];
    // (edit in chat, whether the file's edit touches the same field)
    let kinds: [(&str, Option<bool>); 4] = [
        ("/action edit id:1 priority:medium", None),
        ("", Some(false)),
        ("/action edit id:1 priority:medium", Some(false)),
        (r#"/action edit id:1 task:"Evaluate Qdrant""#, Some(true)),
    ];
    let mut scenarios = Vec::new();
    for how in starts {
        for (chat_edit, file_edit) in kinds {
            for command in ["import", "sync", "export"] {
                let mut steps = vec![Step::Run(command)];
                if !chat_edit.is_empty() {
                    steps.push(Step::Chat);
                }
                if file_edit.is_some() {
                    steps.push(Step::File);
                }
                for order in orders(&steps) {
                    scenarios.push((how, chat_edit, file_edit, order));
                }
            }
        }
    }
    assert_eq!(scenarios.len(), 4 * 3 * (2 + 2 + 6 + 6));
    // Each scenario has its own database and file; a few run at once
    // (they mostly wait on processes).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Some((how, chat_edit, file_edit, order)) =
                    scenarios.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                {
                    if let Err(e) = scenario(*how, chat_edit, *file_edit, order) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{how:?} {order:?} ({chat_edit}): {e}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn orders(steps: &[Step]) -> Vec<Vec<Step>> {
    if steps.len() <= 1 {
        return vec![steps.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..steps.len() {
        let mut rest = steps.to_vec();
        let first = rest.remove(i);
        for mut tail in orders(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

fn scenario(
    how: Start,
    chat_edit: &str,
    file_edit: Option<bool>,
    order: &[Step],
) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    start(&url, &file, how);
    for step in order {
        match step {
            Step::Chat => chat(&url, &[chat_edit]),
            Step::File => edit_task_in_file(&file, 1, FILE_TASK),
            Step::Run("export") => {
                let (code, _, err) = at_url(&url, &["todo", "export", "--out", f]);
                let unseen = err.contains("edit Quorum has not seen (line");
                if !(code == 0 || code == 2 && unseen) {
                    return Err(format!("export: {code} {err}"));
                }
            }
            Step::Run(cmd) => {
                let (code, out, err) = at_url(&url, &["todo", cmd, f]);
                if !(code == 0 || code == 2 && out.contains("1 conflict")) {
                    return Err(format!("{cmd}: {code} {out}{err}"));
                }
            }
        }
    }
    let (code, out, err) = at_url(&url, &["todo", "sync", f]);
    let file_now = shown(&std::fs::read_to_string(&file).unwrap(), 1);
    let quorum_now = in_quorum(&url, 1);
    let pos = |s: Step| order.iter().position(|x| *x == s);
    let run_at = order.iter().position(|s| matches!(s, Step::Run(_)));
    let section = if chat_edit.contains("priority") {
        "Medium Priority"
    } else {
        "High Priority"
    };
    let item = |task: &str| Some((section.to_string(), task.to_string()));
    // Whether one side saw the other's edit before making its own.
    let conflict = match (file_edit, pos(Step::Chat), pos(Step::File), run_at) {
        (Some(true), Some(c), Some(fe), Some(r)) => {
            let Step::Run(cmd) = order[r] else {
                unreachable!()
            };
            let file_saw_chat = c < r && r < fe && cmd != "import";
            let quorum_saw_file = fe < r && r < c && cmd != "export";
            !(file_saw_chat || quorum_saw_file)
        }
        _ => false,
    };
    if conflict {
        if code != 2 || !out.contains("quorum:1 changed in both TODO.md and Quorum") {
            return Err(format!("expected a conflict: {code} {out}{err}"));
        }
        if !out.contains(&format!(
            "task: file \"{FILE_TASK}\", Quorum \"{CHAT_TASK}\""
        )) {
            return Err(format!("the conflict names both values: {out}"));
        }
        let (file_want, quorum_want) = (item(FILE_TASK), item(CHAT_TASK));
        if file_now != file_want || quorum_now != quorum_want {
            return Err(format!(
                "each side keeps its own: file {file_now:?}, Quorum {quorum_now:?}"
            ));
        }
        return Ok(());
    }
    if code != 0 {
        return Err(format!("the settling sync: {code} {out}{err}"));
    }
    let task = match (file_edit, chat_edit.contains("task:")) {
        // Both edited the task, one after seeing the other: the later wins.
        (Some(true), true) if pos(Step::File) > pos(Step::Chat) => FILE_TASK,
        (Some(true), true) => CHAT_TASK,
        (Some(_), _) => FILE_TASK,
        (None, _) => ORIGINAL,
    };
    let want = item(task);
    if file_now != want || quorum_now != want {
        return Err(format!(
            "want {want:?}; file {file_now:?}, Quorum {quorum_now:?}: {out}"
        ));
    }
    Ok(())
}

#[test]
fn export_to_a_file_with_edits_quorum_has_not_seen_refuses_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    at_url(&url, &["todo", "export", "--out", f]);
    edit_task_in_file(&file, 1, FILE_TASK);
    let (code, _, err) = at_url(&url, &["todo", "export", "--out", f]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "quorum: {f} has 1 edit Quorum has not seen (line 7); run `quorum todo sync` first, or pass --force to overwrite it"
        )
    );
    assert!(std::fs::read_to_string(&file).unwrap().contains(FILE_TASK));
    let (code, _, err) = at_url(&url, &["todo", "export", "--out", f, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(!std::fs::read_to_string(&file).unwrap().contains(FILE_TASK));
}

#[test]
fn the_seeds_verify_lines_import_as_done_and_awaiting_verification() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let file = dir.path().join("cto-task-tracking.md");
    std::fs::copy("tests/fixtures/cto-task-tracking.md", &file).unwrap();
    let f = file.to_str().unwrap();
    let (code, out, err) = at_url(&url, &["todo", "import", f, "--owner", "cto"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("29 created, 0 updated, 8 marked done"),
        "{out}"
    );
    let (_, export, _) = at_url(&url, &["todo", "export"]);
    assert!(
        export.contains(
            "- [x] **VERIFY**: Netlify deployment setup [Owner: CTO] (needs verification) <!-- quorum:1 -->"
        ),
        "{export}"
    );
    assert!(
        export.contains("- [ ] Conduct security audits [Owner: CTO] <!-- quorum:20 -->"),
        "a plain line stays open: {export}"
    );
    let (_, again, _) = at_url(&url, &["todo", "import", f]);
    assert!(
        again.contains("0 created, 0 updated, 0 marked done, 0 reopened"),
        "the unticked VERIFY box does not reopen it: {again}"
    );
}

#[test]
fn importing_the_role_document_and_todo_md_adds_each_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let role = dir.path().join("cto-task-tracking.md");
    let todo = dir.path().join("TODO.md");
    std::fs::copy("tests/fixtures/cto-task-tracking.md", &role).unwrap();
    std::fs::copy("tests/fixtures/TODO.md", &todo).unwrap();
    let (code, _, err) = at_url(
        &url,
        &["todo", "import", role.to_str().unwrap(), "--owner", "cto"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = at_url(&url, &["todo", "import", todo.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("3 created")
            && out.contains("; 7 lines matched an existing item instead of adding one:"),
        "{out}"
    );
    assert!(
        out.contains("\n- line 9: quorum:20 Conduct security audits"),
        "{out}"
    );
    let (_, export, _) = at_url(&url, &["todo", "export"]);
    let items = export.lines().filter(|l| l.starts_with("- [")).count();
    assert_eq!(items, 29 + 3, "{export}");
    assert_eq!(
        export.matches("] Conduct security audits [").count(),
        1,
        "{export}"
    );
    let marked = std::fs::read_to_string(&todo).unwrap();
    assert!(
        marked.contains("- [ ] Conduct security audits [Owner: CTO] <!-- quorum:20 -->"),
        "the matched line gets the item's marker: {marked}"
    );
    let (_, again, _) = at_url(&url, &["todo", "import", todo.to_str().unwrap()]);
    assert!(
        again.contains("0 created, 0 updated, 0 marked done, 0 reopened")
            && !again.contains("matched"),
        "{again}"
    );
}

#[test]
fn sync_keeps_a_file_exported_for_one_owner_to_that_owner() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    at_url(&url, &["todo", "export", "--out", f, "--owner", "cto"]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\n<!-- quorum:scope owner:cto -->\n"),
        "{text}"
    );
    std::fs::write(
        &file,
        text.replace(
            "## Low Priority\n",
            "## Low Priority\n\n- [ ] Write the runbook\n",
        ),
    )
    .unwrap();
    let (code, out, err) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 0, "{out}{err}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        !after.contains("Team training"),
        "no other owner's items: {after}"
    );
    assert!(
        after.contains("\n<!-- quorum:scope owner:cto -->\n"),
        "{after}"
    );
    assert!(
        after.contains("- [ ] Write the runbook [Owner: CTO] <!-- quorum:4 -->"),
        "a new line in the file is the file's owner's: {after}"
    );
    let (code, _, err) = at_url(&url, &["todo", "sync", f, "--owner", "ceo"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "quorum: {f} is kept for cto (its header says so); sync it without --owner, or export it again with --owner ceo"
        )
    );
    let (code, _, _) = at_url(&url, &["todo", "export", "--out", f]);
    assert_eq!(code, 0);
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains("Team training"),
        "export --out without --owner keeps the scope too"
    );
}

#[test]
fn a_sync_of_a_file_without_a_baseline_reports_differences_instead_of_guessing() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    // Exported to standard output: Quorum cannot know which file it became.
    std::fs::write(&file, at_url(&url, &["todo", "export"]).1).unwrap();
    chat(&url, &["/action edit id:1 priority:medium"]);
    let (code, out, _) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("line 7: quorum:1 differs from Quorum and this file has no earlier export, import or sync to tell which side changed (priority: file high, Quorum medium); run `quorum todo import` to take the file's version, or edit the line to match"),
        "{out}"
    );
    assert_eq!(
        in_quorum(&url, 1),
        Some(("Medium Priority".to_string(), ORIGINAL.to_string())),
        "Quorum's edit stays"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        shown(&text, 1),
        Some(("High Priority".to_string(), ORIGINAL.to_string())),
        "the file's line stays: {text}"
    );
    // The rest of the file agreed with Quorum and now has a baseline.
    assert!(text.contains("- [x] **VERIFY**: Rotate keys"), "{text}");
}

#[test]
fn a_priority_changed_on_both_sides_is_a_conflict_and_the_file_keeps_its_section() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    chat(&url, &ITEMS);
    let file = dir.path().join("TODO.md");
    let f = file.to_str().unwrap();
    at_url(&url, &["todo", "export", "--out", f]);
    chat(&url, &["/action edit id:1 priority:medium"]);
    // In the file, the line moves from High to Low.
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().find(|l| l.contains("quorum:1 ")).unwrap();
    let moved = text.replace(&format!("{line}\n"), "").replace(
        "## Low Priority\n\n",
        &format!("## Low Priority\n\n{line}\n"),
    );
    std::fs::write(&file, moved).unwrap();
    let (code, out, _) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("quorum:1 changed in both TODO.md and Quorum since the last sync (priority: file low, Quorum medium)"),
        "{out}"
    );
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        shown(&after, 1),
        Some(("Low Priority".to_string(), ORIGINAL.to_string())),
        "{after}"
    );
    assert_eq!(
        in_quorum(&url, 1),
        Some(("Medium Priority".to_string(), ORIGINAL.to_string()))
    );
    let (code, _, _) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 2, "still a conflict until one side agrees");
    chat(&url, &["/action edit id:1 priority:low"]);
    let (code, out, _) = at_url(&url, &["todo", "sync", f]);
    assert_eq!(code, 0, "resolved in chat: {out}");
}
