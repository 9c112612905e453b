"""Creates a few meeting series in a running Quorum, for `/meeting next`.

Each is a signed `/meeting add` slash command sent to Quorum's own endpoint
(the way Slack would send it), so the series is what the command stores:
its cadence, zone and next occurrence are Quorum's, not the bench's guess.
Fails (exit 1) unless every answer says the series was created.

    python3 series.py --url http://127.0.0.1:PORT/slack/commands --count 5
"""
import argparse
import secrets
import sys
import time
import urllib.request

from slack_sdk.signature import SignatureVerifier

from gen import MARK, template

WHEN = [
    "weekly on monday at 09:00", "weekly on thursday at 16:00", "monthly on the first monday at 10:00",
    "every 2 weeks on wednesday at 11:30", "daily at 08:45",
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--secret", default="test-signing-secret")
    p.add_argument("--team", default="T0001BENCH")
    p.add_argument("--count", type=int, default=5)
    a = p.parse_args()
    if not 0 < a.count <= 1000:
        sys.exit("--count must be between 1 and 1000")
    v = SignatureVerifier(a.secret)
    nonce = secrets.token_hex(6)
    for i in range(a.count):
        text = f'add title:"Bench series {i}" when:"{WHEN[i % len(WHEN)]}" tz:Europe/Madrid remind:1d,15m'
        body = template("/meeting", text, a.team, nonce).replace(MARK, str(i))
        ts = str(int(time.time()))
        req = urllib.request.Request(a.url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": v.generate_signature(timestamp=ts, body=body),
        })
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = r.read().decode()
        if "Created series" not in answer:
            sys.exit(f"/meeting add {i} was not created: {answer[:300]}")
    print(f"created {a.count} meeting series")


if __name__ == "__main__":
    main()
