"""Writes a pool of N distinct, pre-signed Slack slash commands for `pool.lua`.

Every request has its own `trigger_id` (a nonce per pool, then the index N)
and its own text (with N too), team_id T0001BENCH, and one fresh timestamp: Slack, and any correct
verifier, refuses requests older than 5 minutes, so make the pool right
before the run. Signatures are made by slack_sdk's own SignatureVerifier
(Slack's reference code), so each request is what Slack itself would send.

The pool file holds only what varies, so a pool of 300,000 stays small:

    line 1: the timestamp
    line 2: the form body, with QQNQQ where the index goes
    line 3: a substring of a successful answer (the Lua script counts those)
    line 4: `ids COUNT`: request N asks for id 1 + (N * 7919) % COUNT where the
            body holds QQIQQ (`show id:K` over seeded ids 1..COUNT, spread over
            the whole table rather than its newest rows); `ids 0` when unused
    line 5..: the v0 signature of request 0, 1, 2, ...

    python3 gen.py --kind action-add --count 200000 --out pool.txt
    wrk -t2 -c64 -d10s --latency -s pool.lua URL -- pool.txt 2
"""
import argparse
import secrets
import time
import urllib.parse

from slack_sdk.signature import SignatureVerifier

MARK = "QQNQQ"
ID_MARK = "QQIQQ"
STEP = 7919  # prime, so N -> 1 + (N * STEP) % COUNT visits every id when COUNT is not its multiple

# kind: (command, text, what Quorum's successful answer contains); the floor
# and the peer answer "recorded" (run.sh passes --ok recorded for them).
KINDS = {
    "action-add": ("/action", f'add task:"Bench item {MARK}" owner:@cto due:2026-12-01', "Added action item"),
    "decision-record": (
        "/decision",
        f'record title:"Bench decision {MARK}" category:tech-stack rationale:"measured {MARK}"',
        "Recorded decision",
    ),
    "action-list": ("/action", "list", " action items"),
    "decision-search": ("/decision", 'search query:"x"', "best first:"),
    # The seeded owners are roles and U0001 is the cto: "N action items:" or
    # "N open action items, the 20 most urgent:".
    "action-mine": ("/action", "mine", " action item"),
    "action-show": ("/action", f"show id:{ID_MARK}", "Seeded item"),
    "decision-show": ("/decision", f"show id:{ID_MARK}", "Rationale: because"),
    "meeting-next": ("/meeting", "next", "Coming up:"),
}


def request_id(n: int, count: int) -> int:
    """The id request n shows (pool.lua computes the same)."""
    return 1 + (n * STEP) % count


def body_of(parts, n: int, count: int) -> str:
    """The body of request n: `parts` is the template split on MARK."""
    s = str(n)
    return s.join(p.replace(ID_MARK, str(request_id(n, count))) if count else p for p in parts)


def template(command: str, text: str, team: str, nonce: str) -> str:
    return urllib.parse.urlencode({
        "token": "unused", "team_id": team, "team_domain": "bench", "channel_id": "C0001",
        "channel_name": "exec", "user_id": "U0001", "user_name": "cto", "command": command,
        "text": text, "api_app_id": "A0001", "response_url": "http://127.0.0.1:9/response",
        "trigger_id": f"{nonce}.{MARK}",
    })


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--secret", default="test-signing-secret")
    p.add_argument("--kind", choices=sorted(KINDS), default="action-add")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--team", default="T0001BENCH")
    p.add_argument("--ok", help="override the success substring")
    p.add_argument("--ids", type=int, default=0, help="show ids 1..IDS (kinds with QQIQQ; required by them)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    command, text, ok = KINDS[a.kind]
    if (ID_MARK in text) != (a.ids > 0):
        p.error(f"--ids N (N > 0, the seeded rows) goes with the show kinds only, not with {a.kind}")
    # A new nonce per pool: two pools sent to one server never share a trigger_id.
    body = template(command, text, a.team, secrets.token_hex(6))
    assert MARK in body and "\n" not in body
    parts = body.split(MARK)
    ts = str(int(time.time()))
    v = SignatureVerifier(a.secret)
    with open(a.out, "w") as f:
        f.write(f"{ts}\n{body}\n{a.ok or ok}\nids {a.ids}\n")
        for i in range(a.count):
            f.write(v.generate_signature(timestamp=ts, body=body_of(parts, i, a.ids))[3:] + "\n")


if __name__ == "__main__":
    main()
