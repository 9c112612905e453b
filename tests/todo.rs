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
            "id,date,title,category,status,attributed_to,authority,recorded_by,approved_by,meeting,supersedes,superseded_by,rationale"
        )
    );
    assert!(
        csv.contains(",proposed,cfo,cfo,cto,,,,,"),
        "attributed to the cfo, approved by nobody yet: {csv}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",\"Mature, with pgvector\""),
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
        json.contains("\"attributed_to\": \"cfo\"")
            && json.contains("\"approved_by\": \"\"")
            && !json.contains("decided_by"),
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
