"""Reads the JSON lines benches/run.sh collected; checks them and writes tables.

    report.py --results R --machine M --command C --check
        fails (exit 1) when a write's successes and stored rows differ, when
        a server answered anything but success, or when nothing succeeded
    report.py --results R --machine M --command C --markdown BENCHMARKS.md
        replaces what lies between the Commands markers (or appends the
        section): the hand-written Profile after the end marker stays
"""
import argparse
import datetime
import json
import statistics
import sys

BEGIN = "<!-- commands:begin: benches/run.sh writes from here to commands:end -->"
END = "<!-- commands:end -->"
WRITES = ("action-add", "decision-record")
LABEL = {
    "action-add": '`/action add task:"..." owner:@cto due:...`',
    "decision-record": '`/decision record title:"..." category:tech-stack rationale:"..."`',
    "action-list": "`/action list`",
    "decision-search": '`/decision search query:"x"`',
    "action-mine": "`/action mine`",
    "action-show": "`/action show id:K`",
    "decision-show": "`/decision show id:K`",
    "meeting-next": "`/meeting next`",
}
BACKENDS = ("sqlite", "postgres")
# The goals for reads at a million records.
READ_P99_MS, READ_VS_FLOOR, BIG = 20.0, 0.3, 1_000_000


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def who(r):
    """`quorum (sqlite)` / `quorum (postgres)`; the floor and the peer by name."""
    return f"quorum ({r.get('backend', 'sqlite')})" if r["server"] == "quorum" else r["server"]


def check(rows):
    problems = []
    for r in rows:
        what = f"{who(r)} {r['kind']} run {r['run']} (history {r['history']})"
        # Past the pool's end Quorum rightly answers a repeated trigger_id
        # without acting: those are the only answers allowed not to succeed.
        allowed = r["wrapped"] if r["server"] == "quorum" else 0
        if r["kind"] not in WRITES:
            # A read that takes longer than Quorum's 2.5 s answers "Working on
            # it…" and goes on: a measured result (the `late` column), not a
            # broken harness. Any other answer (a refusal, an unknown id, an
            # error) or a socket error fails.
            if r["errors"] or r["bad"] - r.get("late", 0) > allowed:
                problems.append(f"{what}: {r['bad'] - r.get('late', 0)} answers neither successful nor late, "
                                f"{r['errors']} socket/status errors")
            continue
        if r["ok"] == 0:
            problems.append(f"{what}: no successful answer")
        if r["errors"] or r["bad"] > allowed:
            problems.append(f"{what}: {r['bad']} answers not successful, {r['errors']} socket/status errors")
        # wrk stops counting at the deadline with up to one request in flight
        # per connection: those were stored and answered, but not counted.
        if not 0 <= r["stored"] - r["ok"] <= r["connections"]:
            problems.append(f"{what}: {r['ok']} successes but {r['stored']} rows stored")
    return problems


def db_cpu(r):
    return f"{r['db_cpu_us']:.0f} µs" if "db_cpu_us" in r else "-"


def fmt_row(r, history=False):
    cells = [who(r), LABEL[r["kind"]]]
    if history:
        cells.append(f"{r['history']:,}")
    cells += [
        str(r["run"]), f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f} ms", f"{r['p99_ms']:.2f} ms",
        f"{r['rss_mb']:.0f} MB", f"{r['cpu_us']:.0f} µs", db_cpu(r), f"{r['ctx']:.1f}", f"{r['ok']:,}",
    ]
    cells.append(f"{r['stored']:,}" if not history else f"{r.get('late', r['bad']):,}")
    return "| " + " | ".join(cells) + " |"


def median(rows, key):
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def ratio(a, rows):
    return f"{a / median(rows, 'rps'):.2f}x" if rows else "(not measured)"


def markdown(rows, machine, command, postgres):
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    pg = ""
    if postgres:
        major, minor = divmod(int(postgres), 10000)
        pg = (f" Quorum on PostgreSQL {major}.{minor} runs on the same machine, over loopback, each run on a new"
              " database; `DB CPU/req` is the time of the PostgreSQL backends serving it (Quorum's own is `CPU/req`).")
    out = [
        BEGIN,
        "",
        f"Machine: {machine}; SQLite (WAL, synchronous=NORMAL in all three) on the VM's disk; {today}.{pg}",
        "All servers run in the same script, one after another, each on a new database,",
        "loaded by wrk on loopback (`wrk -t2 -c64 -d10s --latency`, so wrk shares the 2 cores).",
        "Reproduce from a clone (it says so if it installs wrk or slack_bolt):",
        "",
        "```",
        command,
        "```",
        "",
        "Every request is a distinct signed slash command (own trigger_id and text, one team),",
        "pre-signed with slack_sdk's SignatureVerifier (`benches/commands/gen.py`) and cycled by",
        "`benches/commands/pool.lua`. `ok` counts 2xx answers that say the command succeeded;",
        "`stored` counts the rows in the server's database after the run (it may exceed `ok` by",
        "the requests in flight when wrk stopped, at most one per connection). CPU is the server",
        "process's user+system time per request; context switches are summed over its threads;",
        "peak RSS is the server's high-water mark during that measurement (reset before each).",
        "",
        "### Writes",
        "",
        "| server | command | run | req/s | p50 | p99 | peak RSS | CPU/req | DB CPU/req | ctx sw/req | ok | stored |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    writes = [r for r in rows if r["kind"] in WRITES]
    out += [fmt_row(r) for r in writes]
    floor = [r for r in writes if r["server"] == "floor"]
    peer = [r for r in writes if r["server"] == "bolt"]
    if writes:
        out += [
            "",
            "Medians over the runs, and the issue's goals (writes at least 10x the peer and 0.6x the",
            "floor, p99 under 10 ms at 64 connections, on SQLite; on PostgreSQL measured and reported):",
            "",
            "| server | command | req/s | p99 | Quorum/peer | Quorum/floor | goal met |",
            "|---|---|---|---|---|---|---|",
        ]
    for backend in BACKENDS:
        for kind in WRITES:
            q = [r for r in writes if r["server"] == "quorum" and r.get("backend", "sqlite") == backend
                 and r["kind"] == kind]
            if not q:
                continue
            qr, qp = median(q, "rps"), median(q, "p99_ms")
            peer_cell = ratio(qr, peer) if kind == "action-add" else "(peer has no such command)"
            met = "(no goal)" if backend != "sqlite" else "(floor or peer not run)"
            if backend == "sqlite" and floor and peer:
                met = "yes" if qr >= 10 * median(peer, "rps") and qr >= 0.6 * median(floor, "rps") and qp < 10 else "no"
            out.append(f"| quorum ({backend}) | {LABEL[kind]} | {qr:,.0f} | {qp:.1f} ms | {peer_cell} | "
                       f"{ratio(qr, floor)} | {met} |")
    for name, rs in (("peer (Bolt)", peer), ("floor", floor)):
        if rs:
            out.append(f"| {name} | `/action add` | {median(rs, 'rps'):,.0f} | {median(rs, 'p99_ms'):.1f} ms | | | |")
    reads = [r for r in rows if r["kind"] not in WRITES]
    if reads:
        out += [
            "",
            "### Reads (Quorum, history seeded by `benches/commands/seed.py`)",
            "",
            "N action items and N decisions in one workspace (1 item in 10 open; a fifth of the decisions",
            "match `x`), and 5 meeting series made by `/meeting add`; each size is seeded once into a",
            "template that every run copies. `show id:K` asks for ids spread over the whole table.",
            "A read writes nothing: a request's retry guard is recorded only with its first write.",
            "`late` counts answers that were Quorum's \"Working on it…\" (the read took over 2.5 s).",
            "",
            "| server | command | records | run | req/s | p50 | p99 | peak RSS | CPU/req | DB CPU/req | ctx sw/req | ok | late |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        out += [fmt_row(r, history=True) for r in reads]
        out += [
            "",
            f"Medians over the runs; the goal at {BIG:,} records: p99 under {READ_P99_MS:.0f} ms and at least "
            f"{READ_VS_FLOOR}x the floor's requests per second (the floor's `/action add`).",
            "",
            "| server | command | records | req/s | p50 | p99 | CPU/req | peak RSS | Quorum/floor | goal met |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        keys = sorted({(r.get("backend", "sqlite"), r["history"], r["kind"]) for r in reads},
                      key=lambda k: (BACKENDS.index(k[0]), k[1], list(LABEL).index(k[2])))
        for backend, history, kind in keys:
            q = [r for r in reads if (r.get("backend", "sqlite"), r["history"], r["kind"]) == (backend, history, kind)]
            qr, qp = median(q, "rps"), median(q, "p99_ms")
            met = "(not at 1M)"
            if history >= BIG:
                met = ("yes" if floor and qp < READ_P99_MS and qr >= READ_VS_FLOOR * median(floor, "rps")
                       else "no" if floor or qp >= READ_P99_MS else "(no floor run)")
            out.append(
                f"| quorum ({backend}) | {LABEL[kind]} | {history:,} | {qr:,.0f} | {median(q, 'p50_ms'):.2f} ms | "
                f"{qp:.2f} ms | {median(q, 'cpu_us'):.0f} µs | {median(q, 'rss_mb'):.0f} MB | {ratio(qr, floor)} | {met} |")
    out += ["", END]
    return "\n".join(out) + "\n"


def splice(path, block):
    with open(path) as f:
        text = f.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n## Commands (issue 12)\n\n" + block
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--machine", default="")
    p.add_argument("--command", default="benches/run.sh")
    p.add_argument("--check", action="store_true")
    p.add_argument("--markdown")
    p.add_argument("--postgres", help="PostgreSQL's server_version_num, when Quorum ran on it")
    a = p.parse_args()
    rows = load(a.results)
    block = markdown(rows, a.machine, a.command, a.postgres)
    if a.check:
        print(block)
        problems = check(rows)
        for line in problems:
            print("FAILED:", line, file=sys.stderr)
        if problems or not rows:
            sys.exit(1)
        print(f"checked: {len(rows)} runs, every success stored")
    if a.markdown:
        splice(a.markdown, block)


if __name__ == "__main__":
    main()
