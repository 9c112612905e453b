"""Seeds a Quorum SQLite database (already migrated by `quorum`) with history.

Writes N action items and N decisions, each with its audit entry, straight
into Quorum's schema (migrations/sqlite/0002_decisions_actions.sql) in one
transaction: the decisions full-text index is filled by its own trigger.
The rows are what the commands would have stored: valid statuses,
priorities, owners that are roles, due dates as YYYY-MM-DD.

Items: 1 in 10 open, the rest done or verified (a long-lived workspace).
Decisions: approved, titles from a small vocabulary where 2 words in 10
start with x, so `/decision search query:"x"` matches about a fifth of them.

    python3 seed.py --db quorum.db --count 10000 --workspace T0001BENCH
"""
import argparse
import sqlite3
import time

OWNERS = ["ceo", "cto", "cfo", "coo"]
PRIORITIES = ["high", "medium", "low"]
WORDS = ["postgres", "xenon", "budget", "hiring", "vendor", "xray", "latency", "roadmap", "pricing", "security"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--workspace", default="T0001BENCH")
    a = p.parse_args()
    now = int(time.time())
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA journal_mode=WAL")
    with db:
        actions, decisions, audit = [], [], []
        for i in range(a.count):
            created = now - (a.count - i) * 60
            status = "open" if i % 10 == 0 else ("done" if i % 10 == 1 else "verified")
            done_at = created + 3600 if status != "open" else None
            day = time.strftime("%Y-%m-%d", time.gmtime(created + 7 * 86400))
            owner = OWNERS[i % len(OWNERS)]
            actions.append((
                a.workspace, f"Seeded item {i}", owner, day, PRIORITIES[i % 3], status, "U0001",
                created, done_at or created, "U0001" if done_at else None, done_at,
                "U0002" if status == "verified" else None, done_at + 86400 if status == "verified" else None,
            ))
            w = WORDS[i % len(WORDS)]
            decisions.append((
                a.workspace, f"Seeded decision {i} on {w}", "tech-stack", f"because {w} matters ({i})",
                "cto", "cto", "U0001", "approved", created, created,
            ))
        db.executemany(
            "INSERT INTO actions (workspace, task, owner, due_date, priority, status, created_by, created_at,"
            " updated_at, done_by, done_at, verified_by, verified_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            actions,
        )
        db.executemany(
            "INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,"
            " status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            decisions,
        )
        for entity, table in (("action", "actions"), ("decision", "decisions")):
            audit = db.execute(f"SELECT id, created_at FROM {table} WHERE workspace = ?", (a.workspace,)).fetchall()
            db.executemany(
                "INSERT INTO audit (workspace, entity, entity_id, actor, at, change) VALUES (?,?,?,?,?,?)",
                [(a.workspace, entity, i, "U0001", at, "seeded") for i, at in audit],
            )
    n = db.execute("SELECT (SELECT count(*) FROM actions), (SELECT count(*) FROM decisions)").fetchone()
    print(f"seeded: {n[0]} action items, {n[1]} decisions")
    db.close()


if __name__ == "__main__":
    main()
