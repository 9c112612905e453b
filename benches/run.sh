#!/usr/bin/env bash
# Commands at the speed of the floor (issue 12): signed Slack slash commands
# served by Quorum, side by side with the floor (benches/reference/floor: HMAC
# check + one SQLite insert, in axum) and the peer (benches/reference/bolt:
# Slack Bolt for Python), all on loopback, in one run, on this machine.
#
#   benches/run.sh                 the full run: 3 runs of each server, wrk
#                                  -t2 -c64 -d10s, reads at 10,000 records;
#                                  writes the Commands tables into BENCHMARKS.md
#   benches/run.sh --smoke         Quorum and the peer only, 2 s at 4
#                                  connections, 200 records; checks, writes nothing
#
# Options: --runs N  --duration 10s  --connections 64  --history "10000"
#          --quorum-bin PATH (default: cargo build --release)  --no-md
#          --servers "floor bolt quorum"  --no-install (fail instead of installing)
#
# What it needs: wrk (Debian's package) and Python 3 with slack_sdk, slack_bolt
# and aiohttp. When one is missing it says so and installs it: apt-get install
# -y wrk, pip install slack_sdk slack_bolt aiohttp. Nothing else is fetched
# (cargo fetches the floor's crates the first time it builds it).
#
# Every run starts each server on a new SQLite file and counts, after the run,
# the rows it stored against the answers wrk saw as successful: a server that
# answered without storing shows in the `stored` column, and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HERE=$ROOT/benches

SMOKE=0 RUNS=3 DURATION=10s CONNS=64 THREADS=2 HISTORY="10000" QUORUM_BIN="" WRITE_MD=1
SERVERS="floor bolt quorum" POOL=350000 NO_INSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 RUNS=1 DURATION=2s CONNS=4 THREADS=1 HISTORY="200" WRITE_MD=0
             SERVERS="bolt quorum" POOL=20000 ;;
    --runs) RUNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --history) HISTORY=$2; shift ;;
    --quorum-bin) QUORUM_BIN=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --no-md) WRITE_MD=0 ;;
    --no-install) NO_INSTALL=1 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
  shift
done

SECRET=bench-signing-secret
TEAM=T0001BENCH
WORK=$(mktemp -d /tmp/quorum-cmdbench.XXXXXX)
RESULTS=$WORK/results.jsonl
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "== $*" >&2; }

# ---- tools -----------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  [ "$NO_INSTALL" = 1 ] && { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
  say "wrk is missing: installing Debian's package (apt-get install -y wrk)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
if ! python3 -c "import slack_sdk, slack_bolt, aiohttp" 2>/dev/null; then
  [ "$NO_INSTALL" = 1 ] && { echo "pip install slack_sdk slack_bolt aiohttp first" >&2; exit 1; }
  say "slack_sdk, slack_bolt or aiohttp is missing: pip install slack_sdk slack_bolt aiohttp"
  python3 -m pip install --quiet slack_sdk slack_bolt aiohttp
fi

# ---- builds ----------------------------------------------------------------
if [ -z "$QUORUM_BIN" ]; then
  say "cargo build --release (Quorum)"
  cargo build --release --quiet
  QUORUM_BIN=$ROOT/target/release/quorum
fi
FLOOR_BIN=$ROOT/target/reference-floor/release/floor
if [[ " $SERVERS " == *" floor "* ]]; then
  say "cargo build --release (the floor, benches/reference/floor)"
  cargo build --release --quiet --manifest-path "$HERE/reference/floor/Cargo.toml" \
    --target-dir "$ROOT/target/reference-floor"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # pid port
  for _ in $(seq 1 300); do
    kill -0 "$1" 2>/dev/null || { echo "server $1 died at start" >&2; return 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server $1 never listened on $2" >&2; return 1
}

# start NAME DIR -> sets PID, URL
start() {
  local name=$1 dir=$2 port
  port=$(free_port)
  mkdir -p "$dir"
  case "$name" in
    floor)
      SLACK_SIGNING_SECRET=$SECRET "$FLOOR_BIN" "$port" "$dir/floor.db" 2>"$dir/log" &
      PID=$!; URL=http://127.0.0.1:$port/slack/commands ;;
    bolt)
      SLACK_SIGNING_SECRET=$SECRET python3 "$HERE/reference/bolt/app.py" --port "$port" --db "$dir/bolt.db" \
        >"$dir/log" 2>&1 &
      PID=$!; URL=http://127.0.0.1:$port/slack/events ;;
    quorum)
      cat >"$dir/quorum.toml" <<EOF
[database]
url = "sqlite://$dir/quorum.db"

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
      SLACK_SIGNING_SECRET=$SECRET SLACK_BOT_TOKEN=xoxb-bench QUORUM_HTTP_LISTEN=127.0.0.1:$port \
        QUORUM_LOG=warn "$QUORUM_BIN" run --config "$dir/quorum.toml" 2>"$dir/log" &
      PID=$!; URL=http://127.0.0.1:$port/slack/commands ;;
  esac
  PIDS+=("$PID")
  wait_port "$PID" "$port" || { cat "$dir/log" >&2; exit 1; }
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

stored_rows() { # name kind dir
  python3 - "$@" <<'EOF'
import sqlite3, sys
name, kind, d = sys.argv[1:]
db, q = {
    "floor": (f"{d}/floor.db", "SELECT count(*) FROM commands"),
    "bolt": (f"{d}/bolt.db", "SELECT count(*) FROM action_items"),
    "quorum": (f"{d}/quorum.db", {
        "action-add": "SELECT count(*) FROM actions WHERE task LIKE 'Bench item %'",
        "decision-record": "SELECT count(*) FROM decisions WHERE title LIKE 'Bench decision %'",
    }.get(kind, "SELECT -1")),
}[name]
print(sqlite3.connect(db).execute(q).fetchone()[0])
EOF
}

# measure NAME KIND RUN DIR HISTORY: one wrk run against the started server
measure() {
  local name=$1 kind=$2 run=$3 dir=$4 history=$5 pool=$POOL
  [[ $kind == action-add || $kind == decision-record ]] || pool=$((POOL / 4))
  local ok=()
  [ "$name" = quorum ] || ok=(--ok recorded)
  python3 "$HERE/commands/gen.py" --secret "$SECRET" --kind "$kind" --count "$pool" --team "$TEAM" \
    "${ok[@]}" --out "$dir/pool.txt"
  local t0 c0 t1 c1 out line hz
  hz=$(getconf CLK_TCK)
  t0=$(cpu_ticks "$PID"); c0=$(ctx_switches "$PID")
  # --timeout 10s: a slow answer is measured, not dropped (wrk's default is 2 s).
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s "$HERE/commands/pool.lua" "$URL" \
    -- "$dir/pool.txt" "$THREADS")
  t1=$(cpu_ticks "$PID"); c1=$(ctx_switches "$PID")
  echo "$out" >"$dir/wrk-$kind.txt"
  line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; echo "wrk printed no RESULT" >&2; exit 1; }
  local stored=-1
  [[ $kind == action-add || $kind == decision-record ]] && stored=$(stored_rows "$name" "$kind" "$dir")
  python3 - "$name" "$kind" "$run" "$history" "$stored" "$((t1 - t0))" "$hz" "$((c1 - c0))" \
    "$(hwm_kb "$PID")" "$CONNS" "$line" >>"$RESULTS" <<'EOF'
import json, sys
name, kind, run, history, stored, ticks, hz, ctx, hwm, conns, line = sys.argv[1:]
r = dict(kv.split("=") for kv in line.split()[1:])
n = int(r["requests"])
print(json.dumps({
    "server": name, "kind": kind, "run": int(run), "history": int(history),
    "requests": n, "ok": int(r["ok"]), "bad": int(r["bad"]), "wrapped": int(r["wrapped"]),
    "errors": int(r["errors"]), "rps": float(r["rps"]), "p50_ms": float(r["p50_ms"]),
    "p99_ms": float(r["p99_ms"]), "stored": int(stored), "cpu_us": int(ticks) / int(hz) * 1e6 / max(n, 1),
    "ctx": int(ctx) / max(n, 1), "rss_mb": int(hwm) / 1024, "connections": int(conns),
}))
EOF
  tail -n 1 "$RESULTS" >&2
}

# ---- writes: each server, RUNS times, a new database each time -------------
for run in $(seq 1 "$RUNS"); do
  for name in $SERVERS; do
    kinds=action-add
    [ "$name" = quorum ] && kinds="action-add decision-record"
    for kind in $kinds; do
      say "run $run: $name $kind"
      dir=$WORK/$name-$kind-$run
      start "$name" "$dir"
      measure "$name" "$kind" "$run" "$dir" 0
      stop "$PID"
    done
  done
done

# ---- reads: Quorum with history, RUNS times --------------------------------
for history in $HISTORY; do
  for run in $(seq 1 "$RUNS"); do
    dir=$WORK/quorum-read-$history-$run
    say "run $run: quorum reads at $history records"
    # Migrate, stop, seed, start again: the seed writes while no Quorum runs
    # (seeding under a running `quorum run` made its later writes fail with
    # SQLite's disk I/O error 522 in a trial; see BENCHMARKS.md).
    start quorum "$dir"
    stop "$PID"
    python3 "$HERE/commands/seed.py" --db "$dir/quorum.db" --count "$history" --workspace "$TEAM" >&2
    start quorum "$dir"
    measure quorum action-list "$run" "$dir" "$history"
    measure quorum decision-search "$run" "$dir" "$history"
    stop "$PID"
  done
done

# ---- report ------------------------------------------------------------------
MACHINE="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
ARGS=(--results "$RESULTS" --machine "$MACHINE" --command "benches/run.sh --runs $RUNS --duration $DURATION --connections $CONNS --history \"$HISTORY\"")
mkdir -p "$ROOT/target"
cp "$RESULTS" "$ROOT/target/command-bench.jsonl"
say "raw results: target/command-bench.jsonl"
if [ "$WRITE_MD" = 1 ]; then
  python3 "$HERE/commands/report.py" "${ARGS[@]}" --markdown "$ROOT/BENCHMARKS.md"
  say "wrote the Commands tables into BENCHMARKS.md"
fi
python3 "$HERE/commands/report.py" "${ARGS[@]}" --check
