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
}


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check(rows):
    problems = []
    for r in rows:
        what = f"{r['server']} {r['kind']} run {r['run']} (history {r['history']})"
        if r["kind"] not in WRITES:
            # A read that takes longer than Quorum's 2.5 s answers "Working on
            # it…" and goes on: a measured result (the `late` column), not a
            # broken harness. Only a socket error or a refusal fails.
            if r["errors"]:
                problems.append(f"{what}: {r['errors']} socket/status errors")
            continue
        if r["ok"] == 0:
            problems.append(f"{what}: no successful answer")
        # Past the pool's end Quorum rightly answers a repeated trigger_id
        # without acting: those are the only answers allowed not to succeed.
        allowed = r["wrapped"] if r["server"] == "quorum" else 0
        if r["errors"] or r["bad"] > allowed:
            problems.append(f"{what}: {r['bad']} answers not successful, {r['errors']} socket/status errors")
        # wrk stops counting at the deadline with up to one request in flight
        # per connection: those were stored and answered, but not counted.
        if r["kind"] in WRITES and not 0 <= r["stored"] - r["ok"] <= r["connections"]:
            problems.append(f"{what}: {r['ok']} successes but {r['stored']} rows stored")
    return problems


def fmt_row(r, history=False):
    cells = [r["server"], LABEL[r["kind"]]]
    if history:
        cells.append(f"{r['history']:,}")
    cells += [
        str(r["run"]), f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f} ms", f"{r['p99_ms']:.2f} ms",
        f"{r['rss_mb']:.0f} MB", f"{r['cpu_us']:.0f} µs", f"{r['ctx']:.1f}", f"{r['ok']:,}",
    ]
    cells.append(f"{r['stored']:,}" if not history else f"{r['bad']:,}")
    return "| " + " | ".join(cells) + " |"


def median(rows, key):
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def markdown(rows, machine, command):
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        BEGIN,
        "",
        f"Machine: {machine}; SQLite (WAL, synchronous=NORMAL in all three) on the VM's disk; {today}.",
        "All three servers run in the same script, one after another, each on a new database,",
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
        "process's user+system time per request; context switches are summed over its threads.",
        "",
        "### Writes",
        "",
        "| server | command | run | req/s | p50 | p99 | peak RSS | CPU/req | ctx sw/req | ok | stored |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    writes = [r for r in rows if r["kind"] in WRITES]
    out += [fmt_row(r) for r in writes]
    floor = [r for r in writes if r["server"] == "floor"]
    peer = [r for r in writes if r["server"] == "bolt"]
    out += [
        "",
        "Medians over the runs, and the issue's goals (writes at least 10x the peer and 0.6x the",
        "floor, p99 under 10 ms at 64 connections):",
        "",
        "| command | Quorum req/s | p99 | Quorum/peer | Quorum/floor | goal met |",
        "|---|---|---|---|---|---|",
    ]
    for kind in WRITES:
        q = [r for r in writes if r["server"] == "quorum" and r["kind"] == kind]
        if not q:
            continue
        qr, qp = median(q, "rps"), median(q, "p99_ms")
        vs_peer = qr / median(peer, "rps") if peer else float("nan")
        vs_floor = qr / median(floor, "rps") if floor else float("nan")
        met = vs_peer >= 10 and vs_floor >= 0.6 and qp < 10
        peer_cell = f"{vs_peer:.2f}x" if peer and kind == "action-add" else "(peer has no such command)"
        out.append(f"| {LABEL[kind]} | {qr:,.0f} | {qp:.1f} ms | {peer_cell} | {vs_floor:.2f}x | "
                   f"{'yes' if met else 'no'} |")
    for name, rs in (("peer (Bolt)", peer), ("floor", floor)):
        if rs:
            out.append(f"| {name}: `/action add` | {median(rs, 'rps'):,.0f} | {median(rs, 'p99_ms'):.1f} ms | | | |")
    reads = [r for r in rows if r["kind"] not in WRITES]
    if reads:
        out += [
            "",
            "### Reads (Quorum, history seeded by `benches/commands/seed.py`)",
            "",
            "Each read still records its trigger_id (the retry guard), so it writes one row too.",
            "`late` counts answers that were Quorum's \"Working on it…\" (the read took over 2.5 s).",
            "",
            "| server | command | records | run | req/s | p50 | p99 | peak RSS | CPU/req | ctx sw/req | ok | late |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        out += [fmt_row(r, history=True) for r in reads]
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
    a = p.parse_args()
    rows = load(a.results)
    block = markdown(rows, a.machine, a.command)
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
