#!/usr/bin/env bash
# Start-up to /readyz with a million meeting series (issue 12).
#
#   benches/startup.sh [--bin target/release/quorum] [--series 1000000]
#
# Creates a SQLite database with Quorum's migrations, seeds N active series
# across 10,000 workspaces (each with its next occurrence and its pending
# reminder, as Quorum keeps them), then starts `quorum run` three times
# (Slack configured against a closed local port: nothing leaves the
# machine) and prints the time from exec to the first 200 from /readyz and
# the process's peak RSS. Needs sqlite3 and curl.
set -euo pipefail
BIN=target/release/quorum
N=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --series) N=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
DB=$DIR/q.db
PORT=$((20000 + RANDOM % 20000))
QUORUM_DATABASE_URL=sqlite://$DB "$BIN" export decisions --format json --workspace none >/dev/null
NOW=$(date +%s)
NEXT=$(( (NOW / 86400 + 1) * 86400 + 36000 ))
SEEDED=$(date +%s.%N)
sqlite3 "$DB" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO series (workspace, title, cadence, tz, anchor_date, channel, attendees, remind,
                    status, next_at, created_by, created_at, updated_at)
SELECT 'T' || (i % 10000), 'Series ' || i, 'daily at 10:00', 'UTC', '2026-11-23',
       printf('C%08d', i), '', '15m', 'active', $NEXT, 'bench', $NOW, $NOW FROM n;
INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
SELECT workspace, id, next_at, 'scheduled', 'quorum', $NOW FROM series;
INSERT INTO deliveries (workspace, kind, dedupe_key, channel, series_id, occurrence_at,
                        lead_secs, due_at, next_try_at)
SELECT workspace, 'reminder', 'reminder:' || id || ':' || next_at || ':900', channel, id,
       next_at, 900, next_at - 900, next_at - 900 FROM series;
COMMIT;
SQL
echo "seeded $N series in $(echo "$(date +%s.%N) - $SEEDED" | bc) s ($(du -h "$DB" | cut -f1))"
for run in 1 2 3; do
  start=$(date +%s.%N)
  QUORUM_DATABASE_URL=sqlite://$DB SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET=bench \
    QUORUM_SLACK_API_BASE=http://127.0.0.1:9/api/ QUORUM_HTTP_LISTEN=127.0.0.1:$PORT \
    "$BIN" run 2>"$DIR/run.log" &
  pid=$!
  ready=no
  for _ in $(seq 1 3000); do
    if [ "$(curl -s -o "$DIR/ready.json" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)" = 200 ]; then
      ready=yes
      break
    fi
    sleep 0.01
  done
  end=$(date +%s.%N)
  rss=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  if [ "$ready" != yes ]; then
    echo "run $run: not ready within 30 s" >&2
    tail -5 "$DIR/run.log" >&2
    exit 1
  fi
  echo "run $run: ready after $(echo "$end - $start" | bc) s, peak RSS $rss: $(cat "$DIR/ready.json")"
done
