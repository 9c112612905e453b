#!/usr/bin/env bash
# Where `/action add` spends its time under load: starts the release
# `quorum run` on a new SQLite file, loads it with wrk (-t2 -c64, 10 s) over
# distinct signed commands, and meanwhile records
#   - perf record --call-graph dwarf of the server (CPU samples, stacks),
#   - perf stat of its fsync/fdatasync/pwrite64/futex/write syscalls,
#   - the row counts after the run;
# then prints EXPLAIN QUERY PLAN of the list and search queries at 10,000
# records. Needs perf (Debian's linux-perf), wrk, python3 with slack_sdk.
# Output goes to $OUT (default target/command-profile/). Takes several minutes
# on 2 cores: perf report unwinds the recorded stacks.
#
#   benches/commands/profile.sh [--duration 10s]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION=10s
[ "${1:-}" = --duration ] && DURATION=$2
OUT=${OUT:-$ROOT/target/command-profile}
rm -rf "$OUT"; mkdir -p "$OUT"
SECRET=bench-signing-secret
TEAM=T0001BENCH
BIN=${QUORUM_BIN:-$ROOT/target/release/quorum}
[ -x "$BIN" ] || cargo build --release --quiet
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$OUT/quorum.toml" <<EOF
[database]
url = "sqlite://$OUT/quorum.db"
[discord]
gateway = false
[slack]
api_base = "http://127.0.0.1:9/api"
teams = ["$TEAM"]
[org.cto]
name = "Bench CTO"
slack_user = "U0001"
channel = "cto"
[decisions.categories]
tech-stack = "cto"
EOF
SLACK_SIGNING_SECRET=$SECRET SLACK_BOT_TOKEN=xoxb-bench QUORUM_HTTP_LISTEN=127.0.0.1:$PORT QUORUM_LOG=warn \
  "$BIN" run --config "$OUT/quorum.toml" 2>"$OUT/log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
python3 benches/commands/gen.py --secret "$SECRET" --count 300000 --out "$OUT/pool.txt"

perf record --call-graph dwarf,16384 -F 499 -p "$PID" -o "$OUT/perf.data" -- sleep 8 >"$OUT/perf-record.log" 2>&1 &
REC=$!
perf stat -e 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_wait,context-switches' \
  -p "$PID" -o "$OUT/perf-stat.txt" -- sleep 8 &
STAT=$!
wrk -t2 -c64 -d"$DURATION" --latency -s benches/commands/pool.lua "http://127.0.0.1:$PORT/slack/commands" \
  -- "$OUT/pool.txt" 2 | tee "$OUT/wrk.txt"
wait $REC $STAT || true
sqlite3 "$OUT/quorum.db" "SELECT 'actions', count(*) FROM actions; SELECT 'audit', count(*) FROM audit; SELECT 'inbound_requests', count(*) FROM inbound_requests;" | tee "$OUT/rows.txt"
cat "$OUT/perf-stat.txt"
perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^$' | head -n 120 >"$OUT/perf-self.txt" || true
perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^$' | head -n 120 >"$OUT/perf-children.txt" || true
echo "perf reports: $OUT/perf-self.txt (self time) and $OUT/perf-children.txt (inclusive)"

kill $PID; wait $PID 2>/dev/null || true
python3 benches/commands/seed.py --db "$OUT/quorum.db" --count 10000 --workspace "$TEAM"
sqlite3 "$OUT/quorum.db" <<'EOF' | tee "$OUT/query-plans.txt"
.print '-- /action list (store/actions.rs list_actions, no filter)'
EXPLAIN QUERY PLAN SELECT * FROM actions WHERE workspace = 'T0001BENCH'
  AND (CAST(NULL AS TEXT) IS NULL OR owner = NULL) AND (CAST(NULL AS TEXT) IS NULL OR status = NULL)
  AND (CAST(NULL AS TEXT) IS NULL OR (status IN ('open', 'reopened') AND due_date IS NOT NULL AND due_date < NULL))
  ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, due_date IS NULL, due_date, id LIMIT 1000;
.print '-- /decision search (store/decisions.rs search_decisions)'
EXPLAIN QUERY PLAN SELECT d.* FROM
  (SELECT rowid AS id FROM decisions_fts
   WHERE decisions_fts MATCH 'workspace:"T0001BENCH" AND {title rationale category}:("x"*)'
   ORDER BY rowid DESC LIMIT 1000) f
  JOIN decisions d ON d.id = f.id
  LEFT JOIN (SELECT rowid AS id FROM decisions_fts
   WHERE decisions_fts MATCH 'workspace:"T0001BENCH" AND {title}:("x"*)'
   ORDER BY rowid DESC LIMIT 1000) t ON t.id = f.id
  WHERE d.workspace = 'T0001BENCH' ORDER BY t.id IS NULL, d.id DESC LIMIT 21 OFFSET 0;
.print '-- matches of "x"* at 10,000 decisions'
SELECT count(*) FROM decisions_fts WHERE decisions_fts MATCH '"x"*';
EOF
