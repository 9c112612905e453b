"""Seeds a Quorum database (already migrated by `quorum`) with history.

Writes N action items and N decisions, each with its audit entry, straight
into Quorum's schema (migrations/*/0002_decisions_actions.sql), set-based
(`INSERT ... SELECT` over a counter) in one transaction, so a million of each
takes about a minute rather than an hour. The decisions' full-text index is
filled by Quorum's own trigger (SQLite: the fts5 table of 0018; PostgreSQL:
`decisions_fts` of 0023), so it matches what the commands would have stored.
The rows are what the commands would have stored too: valid statuses,
priorities, owners that are roles, due dates as YYYY-MM-DD.

Items: 1 in 10 open, the rest done or verified (a long-lived workspace);
owners rotate every 10 items, so each role has open items (`/action mine`).
Decisions: approved, titles from a small vocabulary where 2 words in 10
start with x, so `/decision search query:"x"` matches about a fifth of them.
Ids are 1..N in both tables (the database must hold no actions or decisions
yet; the seed fails otherwise), so the bench can ask for `show id:K`.

    python3 seed.py --db quorum.db --count 10000 --workspace T0001BENCH
    python3 seed.py --postgres postgres://.../quorum_bench_tmpl --count 1000000
"""
import argparse
import subprocess
import sqlite3
import sys
import time

# One statement per table; :n, :ws and :now are bound by each backend. Kept
# in one dialect where SQLite and PostgreSQL agree; DATE and RANGE differ.
ACTIONS = """
INSERT INTO actions (workspace, task, owner, due_date, priority, status, created_by, created_at,
                     updated_at, done_by, done_at, verified_by, verified_at)
SELECT {ws}, 'Seeded item ' || i,
       CASE (i / 10) % 4 WHEN 0 THEN 'ceo' WHEN 1 THEN 'cto' WHEN 2 THEN 'cfo' ELSE 'coo' END,
       {day},
       CASE i % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END,
       CASE i % 10 WHEN 0 THEN 'open' WHEN 1 THEN 'done' ELSE 'verified' END,
       'U0001', c,
       CASE WHEN i % 10 = 0 THEN c ELSE c + 3600 END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'U0001' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE c + 3600 END,
       CASE WHEN i % 10 >= 2 THEN 'U0002' END,
       CASE WHEN i % 10 >= 2 THEN c + 3600 + 86400 END
FROM (SELECT i, {now} - ({n} - i) * 60 AS c FROM {range}) s
"""
DECISIONS = """
INSERT INTO decisions (workspace, title, category, rationale, decided_by, authority, recorded_by,
                       status, created_at, updated_at)
SELECT {ws}, 'Seeded decision ' || i || ' on ' || w, 'tech-stack', 'because ' || w || ' matters (' || i || ')',
       'cto', 'cto', 'U0001', 'approved', c, c
FROM (SELECT i, {now} - ({n} - i) * 60 AS c,
             CASE i % 10 WHEN 0 THEN 'postgres' WHEN 1 THEN 'xenon' WHEN 2 THEN 'budget' WHEN 3 THEN 'hiring'
                         WHEN 4 THEN 'vendor' WHEN 5 THEN 'xray' WHEN 6 THEN 'latency' WHEN 7 THEN 'roadmap'
                         WHEN 8 THEN 'pricing' ELSE 'security' END AS w
      FROM {range}) s
"""
AUDIT = """
INSERT INTO audit (workspace, entity, entity_id, actor, at, change)
SELECT workspace, '{entity}', id, 'U0001', created_at, 'seeded' FROM {table} WHERE workspace = {ws}
"""


def seed_sqlite(path: str, n: int, ws: str, now: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # Nothing else has the file open while the seed runs (run.sh stops Quorum
    # first); a crash mid-seed loses only this throwaway file.
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")  # 256 MiB: the indexes stay in memory while they grow
    check_empty(db.execute("SELECT (SELECT count(*) FROM actions) + (SELECT count(*) FROM decisions)").fetchone()[0])
    fill = {
        "ws": "?1", "now": "?2", "n": "?3",
        "day": "strftime('%Y-%m-%d', c + 7 * 86400, 'unixepoch')",
        "range": "(WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?3) SELECT i FROM g)",
    }
    db.execute("BEGIN")
    for sql in (ACTIONS, DECISIONS):
        db.execute(sql.format(**fill), (ws, now, n))
    for entity, table in (("action", "actions"), ("decision", "decisions")):
        db.execute(AUDIT.format(entity=entity, table=table, ws="?1"), (ws,))
    db.execute("COMMIT")
    db.execute("ANALYZE")
    report(db.execute(COUNTS).fetchone())
    db.close()


def seed_postgres(url: str, n: int, ws: str, now: int) -> None:
    fill = {
        "ws": ":'ws'", "now": ":now", "n": ":n",
        "day": "to_char(to_timestamp(c + 7 * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        "range": "generate_series(0, :n - 1) AS g(i)",
    }
    script = "\n".join([
        "\\set ON_ERROR_STOP on",
        "SELECT (SELECT count(*) FROM actions) + (SELECT count(*) FROM decisions) > 0 AS existing \\gset",
        "\\if :existing",
        "\\echo the database already holds actions or decisions",
        "\\quit 3",
        "\\endif",
        "BEGIN;",
        ACTIONS.format(**fill) + ";",
        DECISIONS.format(**fill) + ";",
        AUDIT.format(entity="action", table="actions", ws=":'ws'") + ";",
        AUDIT.format(entity="decision", table="decisions", ws=":'ws'") + ";",
        "COMMIT;",
        "VACUUM ANALYZE;",
        "\\pset format unaligned",
        "\\pset tuples_only on",
        "\\pset fieldsep ' '",
        COUNTS + ";",
    ])
    out = subprocess.run(
        ["psql", "-X", "-q", "-v", f"n={n}", "-v", f"ws={ws}", "-v", f"now={now}", url],
        input=script, capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"seeding PostgreSQL failed (psql exit {out.returncode}): {out.stdout}{out.stderr}".strip())
    report([int(x) for x in out.stdout.split()])


COUNTS = ("SELECT (SELECT count(*) FROM actions), (SELECT min(id) FROM actions), (SELECT max(id) FROM actions),"
          " (SELECT count(*) FROM decisions), (SELECT min(id) FROM decisions), (SELECT max(id) FROM decisions)")


def check_empty(existing: int) -> None:
    if existing:
        sys.exit("the database already holds actions or decisions; seed a new one")


def report(c) -> None:
    an, amin, amax, dn, dmin, dmax = c
    # run.sh asks for `show id:K` with K in 1..N: say so if that does not hold.
    if an and (amin, amax) != (1, an) or dn and (dmin, dmax) != (1, dn):
        sys.exit(f"seeded ids are not 1..N: actions {amin}..{amax} ({an}), decisions {dmin}..{dmax} ({dn})")
    print(f"seeded: {an} action items, {dn} decisions (ids 1..N)")


def main() -> None:
    p = argparse.ArgumentParser()
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="a migrated SQLite file")
    where.add_argument("--postgres", help="the URL of a migrated PostgreSQL database (psql runs the seed)")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--workspace", default="T0001BENCH")
    a = p.parse_args()
    if not 0 < a.count <= 100_000_000:
        sys.exit("--count must be between 1 and 100,000,000")
    if not a.workspace.isalnum():
        sys.exit("--workspace must be letters and digits (a Slack team id)")
    now = int(time.time())
    t0 = time.monotonic()
    if a.db:
        seed_sqlite(a.db, a.count, a.workspace, now)
    else:
        seed_postgres(a.postgres, a.count, a.workspace, now)
    print(f"seed took {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
