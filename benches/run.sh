#!/usr/bin/env bash
# Commands at the speed of the floor (issue 12): signed Slack slash commands
# served by Quorum, side by side with the floor (benches/reference/floor: HMAC
# check + one SQLite insert, in axum) and the peer (benches/reference/bolt:
# Slack Bolt for Python), all on loopback, in one run, on this machine.
#
#   benches/run.sh                 the full run: 3 runs of each server, wrk
#                                  -t2 -c64 -d10s, Quorum on SQLite and on
#                                  PostgreSQL, reads at 10,000 and 1,000,000
#                                  records; writes the Commands tables into
#                                  BENCHMARKS.md (about 30 minutes on 2 cores)
#   benches/run.sh --smoke         Quorum (SQLite) and the peer only, 2 s at 4
#                                  connections, 200 records; checks, writes nothing
#
# Options: --runs N  --duration 10s  --connections 64  --history "10000 1000000"
#          --backends "sqlite postgres"  --only writes|reads (default: both)
#          --quorum-bin PATH (default: cargo build --release)  --floor-bin PATH
#          (default: cargo build the floor)  --no-md  --servers "floor bolt quorum"
#          --no-install (fail instead of installing)
#
# PostgreSQL: QUORUM_BENCH_POSTGRES_URL is an admin URL able to CREATE
# DATABASE (postgres://user:password@127.0.0.1:5432/postgres). Without it the
# full run starts a throwaway cluster the way .ci/run does (initdb as the
# postgres user in a new folder, loopback only, its own port; stopped and
# removed on exit); --smoke then runs SQLite only. Either way it prints why
# PostgreSQL was skipped when it was. Every Quorum-on-PostgreSQL run gets a new
# database (quorum_bench_<pid>_<n>), dropped when the run ends and on any exit.
#
# Reads: each history size is seeded once into a template (a SQLite file
# copied for each run; a PostgreSQL database each run is created from with
# CREATE DATABASE ... TEMPLATE), after Quorum migrated it and created a few
# meeting series through its own `/meeting add` (benches/commands/series.py).
#
# What it needs: wrk (Debian's package), psql (for PostgreSQL), Python 3 with
# slack_sdk, slack_bolt and aiohttp. When one is missing it says so and installs
# it: apt-get install -y wrk, pip install slack_sdk slack_bolt aiohttp. Nothing
# else is fetched (cargo fetches the floor's crates the first time it builds it).
#
# Every run starts each server on a new database and counts, after the run,
# the rows it stored against the answers wrk saw as successful: a server that
# answered without storing shows in the `stored` column, and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HERE=$ROOT/benches
T_START=$(date +%s)

SMOKE=0 RUNS=3 DURATION=10s CONNS=64 THREADS=2 HISTORY="10000 1000000" QUORUM_BIN="" FLOOR_BIN="" WRITE_MD=1
SERVERS="floor bolt quorum" POOL=350000 NO_INSTALL=0 BACKENDS="" ONLY="writes reads"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 RUNS=1 DURATION=2s CONNS=4 THREADS=1 HISTORY="200" WRITE_MD=0
             SERVERS="bolt quorum" POOL=20000 ;;
    --runs) RUNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --history) HISTORY=$2; shift ;;
    --quorum-bin) QUORUM_BIN=$2; shift ;;
    --floor-bin) FLOOR_BIN=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --backends) BACKENDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-md) WRITE_MD=0 ;;
    --no-install) NO_INSTALL=1 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
  shift
done
# Bounded inputs: a typo fails here in one line rather than half an hour in.
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "--runs must be 1-99, not $RUNS" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]{0,3}[sm]?$ ]] || { echo "--duration must be like 10s or 2m, not $DURATION" >&2; exit 2; }
[[ $CONNS =~ ^[1-9][0-9]{0,3}$ ]] || { echo "--connections must be 1-9999, not $CONNS" >&2; exit 2; }
for h in $HISTORY; do
  [[ $h =~ ^[1-9][0-9]{0,7}$ ]] || { echo "--history takes counts from 1 to 99,999,999, not $h" >&2; exit 2; }
done
for o in $ONLY; do
  [[ $o == writes || $o == reads ]] || { echo "--only takes writes or reads, not $o" >&2; exit 2; }
done
for b in $BACKENDS; do
  [[ $b == sqlite || $b == postgres ]] || { echo "--backends takes sqlite and postgres, not $b" >&2; exit 2; }
done
has() { [[ " $1 " == *" $2 "* ]]; }
if [ -n "$FLOOR_BIN" ] && [ ! -x "$FLOOR_BIN" ]; then echo "--floor-bin $FLOOR_BIN is not an executable" >&2; exit 2; fi
if [ -n "$QUORUM_BIN" ] && [ ! -x "$QUORUM_BIN" ]; then echo "--quorum-bin $QUORUM_BIN is not an executable" >&2; exit 2; fi

SECRET=bench-signing-secret
TEAM=T0001BENCH
WORK=$(mktemp -d /tmp/quorum-cmdbench.XXXXXX)
RESULTS=$WORK/results.jsonl
PIDS=()
PG_ADMIN=${QUORUM_BENCH_POSTGRES_URL:-}
PG_DBS=()       # every database this run created: dropped on exit
PG_PREFIX=quorum_bench_$$
PG_N=0
PG_CLUSTER=""   # the throwaway cluster's folder, when this run started one
PGBIN=""
cleanup() {
  local p d
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${PG_DBS[@]}"; do
    psql -X -q -d "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 ||
      echo "== could not drop database $d" >&2
  done
  if [ -n "$PG_CLUSTER" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $PG_CLUSTER -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$PG_CLUSTER"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- PostgreSQL: which backends, and where ------------------------------------
# The URL of database $2 on the server of admin URL $1 (same user, host, options).
db_url() {
  python3 - "$1" "$2" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))
EOF
}
pg_skip() { say "PostgreSQL skipped: $*"; BACKENDS=sqlite; }
start_cluster() { # a throwaway cluster like .ci/run's: sets PG_ADMIN or says why not
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    pg_skip "no QUORUM_BENCH_POSTGRES_URL and no initdb (apt-get install postgresql) to start a cluster"; return
  fi
  if [ "$(id -u)" != 0 ] || ! id postgres >/dev/null 2>&1; then
    pg_skip "no QUORUM_BENCH_POSTGRES_URL, and starting a cluster needs root and the postgres user"; return
  fi
  local port
  port=$(free_port)
  PG_CLUSTER=$(mktemp -d /tmp/quorum-cmdbench-pg.XXXXXX)
  chown postgres:postgres "$PG_CLUSTER"
  say "starting a throwaway PostgreSQL cluster on 127.0.0.1:$port ($PG_CLUSTER)"
  su postgres -c "$PGBIN/initdb -D $PG_CLUSTER -A trust -U postgres >/dev/null"
  su postgres -c "$PGBIN/pg_ctl -D $PG_CLUSTER -o '-p $port -k $PG_CLUSTER -c listen_addresses=127.0.0.1' -w -l $PG_CLUSTER/log start >/dev/null"
  PG_ADMIN=postgres://postgres@127.0.0.1:$port/postgres
}
if has "$SERVERS" quorum; then
  if [ -z "$BACKENDS" ]; then
    if [ -n "$PG_ADMIN" ]; then BACKENDS="sqlite postgres"
    elif [ "$SMOKE" = 1 ]; then pg_skip "--smoke runs SQLite only unless QUORUM_BENCH_POSTGRES_URL is set"
    else BACKENDS="sqlite postgres"; fi
  fi
  if has "$BACKENDS" postgres; then
    if ! command -v psql >/dev/null; then
      echo "psql is missing (apt-get install postgresql-client), or pass --backends sqlite" >&2; exit 1
    fi
    [ -n "$PG_ADMIN" ] || start_cluster
  fi
  if has "$BACKENDS" postgres; then
    PG_VERSION=$(psql -X -Atq -d "$PG_ADMIN" -c "SHOW server_version_num") ||
      { echo "cannot reach PostgreSQL at the admin URL (QUORUM_BENCH_POSTGRES_URL)" >&2; exit 1; }
    [[ $PG_VERSION =~ ^[0-9]+$ ]] && [ "$PG_VERSION" -ge 130000 ] ||
      { echo "PostgreSQL 13 or later is needed (DROP DATABASE ... WITH (FORCE)); the server is $PG_VERSION" >&2; exit 1; }
    # FILE_COPY (15+) copies the template's files; the default WAL_LOG would
    # write a 1.4 GB template through the WAL for every run.
    PG_COPY=""
    [ "$PG_VERSION" -ge 150000 ] && PG_COPY="STRATEGY = FILE_COPY"
    say "Quorum backends: $BACKENDS (PostgreSQL $PG_VERSION)"
  else
    say "Quorum backends: $BACKENDS"
  fi
fi
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN" "$@"; }
# new_pg_db [TEMPLATE] -> sets PG_DB: a new database, dropped on exit
new_pg_db() {
  PG_N=$((PG_N + 1))
  PG_DB=${PG_PREFIX}_$PG_N
  PG_DBS+=("$PG_DB")
  if [ -n "${1:-}" ]; then
    psql_admin -c "CREATE DATABASE $PG_DB TEMPLATE $1 $PG_COPY"
  else
    psql_admin -c "CREATE DATABASE $PG_DB"
  fi
}
drop_pg_db() { psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }

# ---- what it will do, and about how long -------------------------------------
secs() { local d=$1; case "$d" in *m) echo $(( ${d%m} * 60 ));; *s) echo "${d%s}";; *) echo "$d";; esac; }
READ_KINDS="action-list decision-search action-mine action-show decision-show meeting-next"
est=0
nb=$(wc -w <<<"$BACKENDS")
if has "$ONLY" writes; then
  for name in $SERVERS; do
    if [ "$name" = quorum ]; then est=$((est + RUNS * 2 * nb * ($(secs "$DURATION") + 8)))
    else est=$((est + RUNS * ($(secs "$DURATION") + 8))); fi
  done
fi
if has "$ONLY" reads && has "$SERVERS" quorum; then
  for h in $HISTORY; do
    # seeding: about 60 s per million on SQLite, 180 s on PostgreSQL (this machine)
    for b in $BACKENDS; do
      per_million=60
      [ "$b" = postgres ] && per_million=180
      est=$((est + 10 + h * per_million / 1000000 + RUNS * (6 * ($(secs "$DURATION") + 3) + 8)))
    done
  done
fi
say "estimated duration: about $(( (est + 59) / 60 )) min (--only \"$ONLY\", backends \"$BACKENDS\", history \"$HISTORY\", $RUNS runs of $DURATION)"

# ---- builds ----------------------------------------------------------------
if [ -z "$QUORUM_BIN" ] && has "$SERVERS" quorum; then
  say "cargo build --release (Quorum)"
  cargo build --release --quiet
  QUORUM_BIN=$ROOT/target/release/quorum
fi
if has "$SERVERS" floor && has "$ONLY" writes && [ -z "$FLOOR_BIN" ]; then
  say "cargo build --release (the floor, benches/reference/floor)"
  cargo build --release --quiet --manifest-path "$HERE/reference/floor/Cargo.toml" \
    --target-dir "$ROOT/target/reference-floor"
  FLOOR_BIN=$ROOT/target/reference-floor/release/floor
fi

wait_port() { # pid port
  for _ in $(seq 1 600); do
    kill -0 "$1" 2>/dev/null || { echo "server $1 died at start" >&2; return 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server $1 never listened on $2" >&2; return 1
}

# start NAME DIR [DATABASE_URL] -> sets PID, URL (Quorum takes the database URL)
start() {
  local name=$1 dir=$2 db=${3:-} port
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
url = "$db"

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
# CPU ticks of the PostgreSQL backends serving database $1 ("pid ticks" lines;
# only when the server runs on this machine, which loopback implies).
pg_ticks() {
  local p
  for p in $(psql_admin -At -c "SELECT pid FROM pg_stat_activity WHERE datname = '$1'"); do
    [ -r "/proc/$p/stat" ] && echo "$p $(cpu_ticks "$p" 2>/dev/null || echo 0)"
  done
  return 0
}

stored_rows() { # name kind dir backend db
  local q
  case "$2" in
    action-add) q="SELECT count(*) FROM actions WHERE task LIKE 'Bench item %'" ;;
    decision-record) q="SELECT count(*) FROM decisions WHERE title LIKE 'Bench decision %'" ;;
    *) echo -1; return ;;
  esac
  if [ "$1" = quorum ] && [ "$4" = postgres ]; then
    psql -X -Atq -v ON_ERROR_STOP=1 -d "$(db_url "$PG_ADMIN" "$5")" -c "$q"
    return
  fi
  python3 - "$1" "$3" "$q" <<'EOF'
import sqlite3, sys
name, d, q = sys.argv[1:]
db, q = {
    "floor": (f"{d}/floor.db", "SELECT count(*) FROM commands"),
    "bolt": (f"{d}/bolt.db", "SELECT count(*) FROM action_items"),
    "quorum": (f"{d}/quorum.db", q),
}[name]
print(sqlite3.connect(db).execute(q).fetchone()[0])
EOF
}

# measure NAME KIND RUN DIR HISTORY BACKEND [PG_DB]: one wrk run against the started server
measure() {
  local name=$1 kind=$2 run=$3 dir=$4 history=$5 backend=$6 db=${7:-} pool=$POOL
  # Reads answer slower than writes, so a quarter of the pool lasts, except
  # `show`, which may answer at the floor's pace.
  [[ $kind == action-add || $kind == decision-record || $kind == *-show ]] || pool=$((POOL / 4))
  local extra=()
  [ "$name" = quorum ] || extra+=(--ok recorded)
  [[ $kind == *-show ]] && extra+=(--ids "$history")
  python3 "$HERE/commands/gen.py" --secret "$SECRET" --kind "$kind" --count "$pool" --team "$TEAM" \
    "${extra[@]}" --out "$dir/pool.txt"
  local t0 c0 t1 c1 out line hz pg0="" pg1=""
  hz=$(getconf CLK_TCK)
  [ -n "$db" ] && pg0=$(pg_ticks "$db")
  # Peak RSS per measurement, not since start: 5 resets VmHWM (Linux 4.0+;
  # without the right to, the peak is the process's since it started).
  echo 5 >"/proc/$PID/clear_refs" 2>/dev/null || true
  t0=$(cpu_ticks "$PID"); c0=$(ctx_switches "$PID")
  # --timeout 10s: a slow answer is measured, not dropped (wrk's default is 2 s).
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s "$HERE/commands/pool.lua" "$URL" \
    -- "$dir/pool.txt" "$THREADS")
  t1=$(cpu_ticks "$PID"); c1=$(ctx_switches "$PID")
  [ -n "$db" ] && pg1=$(pg_ticks "$db")
  echo "$out" >"$dir/wrk-$kind.txt"
  line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; echo "wrk printed no RESULT" >&2; exit 1; }
  local stored=-1
  [[ $kind == action-add || $kind == decision-record ]] && stored=$(stored_rows "$name" "$kind" "$dir" "$backend" "$db")
  python3 - "$name" "$kind" "$run" "$history" "$stored" "$((t1 - t0))" "$hz" "$((c1 - c0))" \
    "$(hwm_kb "$PID")" "$CONNS" "$line" "$backend" "$pg0" "$pg1" "${db:+postgres}" >>"$RESULTS" <<'EOF'
import json, sys
name, kind, run, history, stored, ticks, hz, ctx, hwm, conns, line, backend, pg0, pg1, pg = sys.argv[1:]
r = dict(kv.split("=") for kv in line.split()[1:])
n = int(r["requests"])
row = {
    "server": name, "backend": backend, "kind": kind, "run": int(run), "history": int(history),
    "requests": n, "ok": int(r["ok"]), "bad": int(r["bad"]), "wrapped": int(r["wrapped"]),
    "late": int(r["late"]), "errors": int(r["errors"]), "rps": float(r["rps"]), "p50_ms": float(r["p50_ms"]),
    "p99_ms": float(r["p99_ms"]), "stored": int(stored), "cpu_us": int(ticks) / int(hz) * 1e6 / max(n, 1),
    "ctx": int(ctx) / max(n, 1), "rss_mb": int(hwm) / 1024, "connections": int(conns),
}
if pg:
    # The PostgreSQL backends' CPU: a connection opened during the run counts
    # from its start (all of its life was in the run).
    before = dict(map(int, l.split()) for l in pg0.splitlines() if l.strip())
    after = dict(map(int, l.split()) for l in pg1.splitlines() if l.strip())
    spent = sum(t - before.get(p, 0) for p, t in after.items())
    row["db_cpu_us"] = spent / int(hz) * 1e6 / max(n, 1)
print(json.dumps(row))
EOF
  tail -n 1 "$RESULTS" >&2
}

# start_quorum BACKEND DIR [TEMPLATE] -> PID, URL, and QDB (the PostgreSQL
# database, empty for SQLite). SQLite: DIR/quorum.db, a copy of TEMPLATE when given.
start_quorum() {
  local backend=$1 dir=$2 tmpl=${3:-}
  mkdir -p "$dir"
  QDB=""
  if [ "$backend" = postgres ]; then
    new_pg_db "$tmpl"
    QDB=$PG_DB
    start quorum "$dir" "$(db_url "$PG_ADMIN" "$QDB")"
  else
    [ -n "$tmpl" ] && cp "$tmpl" "$dir/quorum.db"
    start quorum "$dir" "sqlite://$dir/quorum.db"
  fi
}
stop_quorum() { # after stop: drop its database, remove its file (templates stay)
  stop "$PID"
  if [ -n "$QDB" ]; then drop_pg_db "$QDB"; else rm -f "$1/quorum.db" "$1/quorum.db-wal" "$1/quorum.db-shm"; fi
}

# ---- writes: each server, RUNS times, a new database each time -------------
if has "$ONLY" writes; then
  for run in $(seq 1 "$RUNS"); do
    for name in $SERVERS; do
      if [ "$name" = quorum ]; then
        for backend in $BACKENDS; do
          for kind in action-add decision-record; do
            say "run $run: quorum ($backend) $kind"
            dir=$WORK/quorum-$backend-$kind-$run
            start_quorum "$backend" "$dir"
            measure quorum "$kind" "$run" "$dir" 0 "$backend" "$QDB"
            stop_quorum "$dir"
          done
        done
      else
        say "run $run: $name action-add"
        dir=$WORK/$name-action-add-$run
        start "$name" "$dir"
        measure "$name" action-add "$run" "$dir" 0 sqlite
        stop "$PID"
      fi
    done
  done
fi

# ---- reads: Quorum with history, RUNS times, per backend -------------------
# The template: Quorum migrates it and creates 5 meeting series through its
# own `/meeting add`, then stops; the seed writes while no Quorum runs
# (seeding under a running `quorum run` made its later writes fail with
# SQLite's disk I/O error 522 in a trial; see BENCHMARKS.md).
if has "$ONLY" reads && has "$SERVERS" quorum; then
  for backend in $BACKENDS; do
    for history in $HISTORY; do
      say "quorum ($backend): seeding the template at $history records"
      tdir=$WORK/template-$backend-$history
      start_quorum "$backend" "$tdir"
      python3 "$HERE/commands/series.py" --url "$URL" --secret "$SECRET" --team "$TEAM" --count 5 >&2
      stop "$PID"
      if [ "$backend" = postgres ]; then
        tmpl=$QDB
        python3 "$HERE/commands/seed.py" --postgres "$(db_url "$PG_ADMIN" "$tmpl")" --count "$history" \
          --workspace "$TEAM" >&2
      else
        tmpl=$tdir/template.db
        python3 "$HERE/commands/seed.py" --db "$tdir/quorum.db" --count "$history" --workspace "$TEAM" >&2
        # One file to copy: fold the WAL back in before the copies.
        python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" \
          "$tdir/quorum.db"
        mv "$tdir/quorum.db" "$tmpl"
        rm -f "$tdir/quorum.db-wal" "$tdir/quorum.db-shm"
      fi
      for run in $(seq 1 "$RUNS"); do
        dir=$WORK/quorum-$backend-read-$history-$run
        say "run $run: quorum ($backend) reads at $history records"
        start_quorum "$backend" "$dir" "$tmpl"
        for kind in $READ_KINDS; do
          measure quorum "$kind" "$run" "$dir" "$history" "$backend" "$QDB"
        done
        stop_quorum "$dir"
      done
      if [ "$backend" = postgres ]; then drop_pg_db "$tmpl"; else rm -rf "$tdir"; fi
    done
  done
fi

# ---- report ------------------------------------------------------------------
[ -s "$RESULTS" ] || { echo "nothing was measured (check --only, --servers and --backends)" >&2; exit 1; }
ELAPSED=$(( $(date +%s) - T_START ))
say "measured in $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
MACHINE="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
ARGS=(--results "$RESULTS" --machine "$MACHINE" --command "benches/run.sh --runs $RUNS --duration $DURATION --connections $CONNS --history \"$HISTORY\" --backends \"$BACKENDS\"")
[ -n "${PG_VERSION:-}" ] && ARGS+=(--postgres "$PG_VERSION")
mkdir -p "$ROOT/target"
cp "$RESULTS" "$ROOT/target/command-bench.jsonl"
say "raw results: target/command-bench.jsonl"
if [ "$WRITE_MD" = 1 ]; then
  python3 "$HERE/commands/report.py" "${ARGS[@]}" --markdown "$ROOT/BENCHMARKS.md"
  say "wrote the Commands tables into BENCHMARKS.md"
fi
python3 "$HERE/commands/report.py" "${ARGS[@]}" --check
