#!/usr/bin/env bash
# Runs Concord's performance scenarios against Concord and the servers a team would otherwise
# deploy, side by side on this machine, and writes a report:
#   reference   @y/websocket-server 0.1.1 (npm)
#   ysweet      y-sweet 0.9.1 (cargo install, into bench/peers/y-sweet; about five minutes
#               to compile the first time)
#   hocuspocus  Hocuspocus 4.7.0 with its SQLite extension (npm; its own framing, which
#               concord-load speaks with --framing hocuspocus)
#
#   bash bench/run.sh            # everything, three times over (well over an hour)
#   S3_STEPS="500 1000" DURATION=5 REPEATS=1 bash bench/run.sh   # a quicker look
#   SERVERS=concord SCENARIOS="S5" bash bench/run.sh              # one server, some scenarios
#
# The method, for a shared and noisy machine: the servers take turns run by run (A B C A B C),
# each scenario is run REPEATS times (3), every server is started afresh for every run, the
# machine's load average is recorded beside each run, and the report quotes medians with their
# ranges. Documents are opened the same way for every server: by the clients of the run.
#
# Scenarios (each bounded in time):
#   S1  50 clients, 10 writers at 5 edits/s
#   S2  500 clients, 10 writers at 5 edits/s
#   S3  500..10000 clients on one document: the largest count with p99 < 100 ms, nothing lost
#   S4  memory per document, 1000 documents of 5 KB held open
#   S5  cold load of a 200-paragraph, 120,000-character document with 20,000 transactions:
#       the first load after a restart, then later ones
# Per-mission limits: Concord's (connections, message rate and burst per mission) are raised
# for the benchmark, since every simulated client is one mission's and would otherwise be
# refused for flooding; the peers have no such limits.
# Output: bench/results/*.json (one per run, -rN for the repeat), report.md, p99.png
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/results
DURATION=${DURATION:-10}
REPEATS=${REPEATS:-3}
S3_STEPS=${S3_STEPS:-"500 1000 2000 3000 4000 5000 7500 10000"}
SERVERS=${SERVERS:-"concord reference ysweet hocuspocus"}
SCENARIOS=${SCENARIOS:-"S1 S2 S3 S4 S5"}
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
has() { [[ " $SERVERS " == *" $1 "* ]]; }
mkdir -p "$OUT"
for server in $SERVERS; do
  for scenario in $SCENARIOS; do rm -f "$OUT/$server-$scenario".json "$OUT/$server-$scenario"-*.json "$OUT/$server-$scenario"*.load; done
done
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT

echo "==> building (release)"
cargo build --release --locked -p concord-server -p concord-load >/dev/null
LOAD=$ROOT/target/release/concord-load
CONCORD=$ROOT/target/release/concord

echo "==> peers (npm into bench/peers/node_modules, cargo into bench/peers/y-sweet)"
if has reference || has hocuspocus; then
  if ! cmp -s bench/peers/package-lock.json bench/peers/node_modules/.concord-installed-lock 2>/dev/null; then
    (cd bench/peers && timeout 900 npm ci --no-audit --no-fund --loglevel=error)
    cp bench/peers/package-lock.json bench/peers/node_modules/.concord-installed-lock
  fi
fi
YSWEET=$ROOT/bench/peers/y-sweet/bin/y-sweet
if has ysweet && ! grep -qs '"y-sweet 0\.9\.1 ' bench/peers/y-sweet/.crates.toml; then
  timeout 1800 cargo install y-sweet --version 0.9.1 --locked --root bench/peers/y-sweet >/dev/null
fi
python3 -c 'import matplotlib' 2>/dev/null || pip install --quiet matplotlib

# Sockets: 10,000 clients need 10,000 descriptors in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PID=""
URL=""
TOKEN_ARGS=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not open port $1" >&2
  return 1
}

start_server() { # $1: concord|reference, $2: data directory (kept across a restart)
  local port
  port=$(free_port)
  case $1 in
    concord)
      "$CONCORD" serve --listen "127.0.0.1:$port" --data-dir "$2" \
        --mission-connections 1000000 --mission-rate 100000000 --mission-burst 100000000 \
        > "$WORK/server.log" 2>&1 &
      PID=$!
      URL="ws://127.0.0.1:$port/ws/{doc}"
      wait_port "$port"
      # Writers are a facilitator's: under the update policy only facilitators type in bodies.
      TOKEN_ARGS=(--schema concord --token "$("$CONCORD" token --sub load --mission LOAD --role facilitator --docs '*' --data-dir "$2")")
      ;;
    reference)
      (cd bench/peers && HOST=127.0.0.1 PORT=$port YPERSISTENCE="$2" \
        exec node node_modules/@y/websocket-server/src/server.js) > "$WORK/server.log" 2>&1 &
      PID=$!
      URL="ws://127.0.0.1:$port/{doc}"
      wait_port "$port"
      # No schema or policy there: writers type into a root text.
      TOKEN_ARGS=(--schema root)
      ;;
    ysweet)
      # No auth key: y-sweet's development mode, documents made on first use.
      mkdir -p "$2"
      "$YSWEET" serve "$2" --host 127.0.0.1 --port "$port" > "$WORK/server.log" 2>&1 &
      PID=$!
      URL="ws://127.0.0.1:$port/d/{doc}/ws/{doc}"
      wait_port "$port"
      TOKEN_ARGS=(--schema root)
      ;;
    hocuspocus)
      mkdir -p "$2"
      (cd bench/peers && HOST=127.0.0.1 PORT=$port DATA="$2" exec node hocuspocus.mjs) > "$WORK/server.log" 2>&1 &
      PID=$!
      URL="ws://127.0.0.1:$port/{doc}"
      wait_port "$port"
      TOKEN_ARGS=(--schema root --framing hocuspocus)
      ;;
  esac
}

# Waits (at most 30 s) until a directory stops changing: the reference server persists
# updates asynchronously and loses what is still queued when it is stopped.
settle_dir() {
  local last="" now
  for _ in $(seq 1 60); do
    now=$(du -sb "$1" 2>/dev/null | cut -f1)
    [ -n "$last" ] && [ "$now" = "$last" ] && return 0
    last=$now
    sleep 0.5
  done
}

stop_server() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
  PID=""
}

load() { # scenario label, then concord-load arguments
  local label=$1; shift
  local cmd=$1; shift
  timeout 300 "$LOAD" --threads 1 "$cmd" --url "$URL" "${TOKEN_ARGS[@]}" --server-pid "$PID" \
    --label "$label" --json "$OUT/$label.json" "$@" >/dev/null 2>"$WORK/load.err" \
    || { echo "   $label failed: $(tail -n 2 "$WORK/load.err")"; return 0; }
  grep -E 'p99|lost|server_cpu_us|kib_per_doc|ms_to_full' "$WORK/load.err" | sed 's/^/   /' || true
}

# One run of one scenario on one server, started afresh (the load average beside it).
run_one() { # server, scenario label, repeat, then what load() takes after the label
  local server=$1 label=$2 repeat=$3; shift 3
  start_server "$server" "$WORK/$server-$label-r$repeat"
  cut -d' ' -f1-3 /proc/loadavg > "$OUT/$server-$label-r$repeat.load"
  load "$server-$label-r$repeat" "$@"
  stop_server
}

for repeat in $(seq 1 "$REPEATS"); do
  echo "==> round $repeat of $REPEATS"
  for scenario in "S1 50" "S2 500"; do
    set -- $scenario
    want "$1" || continue
    for server in $SERVERS; do
      echo " - $1 on $server"
      run_one "$server" "$1" "$repeat" run --clients "$2" --writers 10 --rate 5 --duration "$DURATION" --doc-prefix "$1"
      # How long broadcasts waited for their commit (Concord logs it as each room retires).
      if [ "$server" = concord ]; then
        sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" \
          | grep -o 'broadcasts=[0-9]* p50_us=[0-9]* p99_us=[0-9]*' | sed 's/^/   commit wait: /' || true
      fi
    done
  done
  if want S3; then
    for clients in $S3_STEPS; do
      for server in $SERVERS; do
        echo " - S3 with $clients clients on $server"
        run_one "$server" "S3-$clients" "$repeat" run --clients "$clients" --writers 10 --rate 5 --duration "$DURATION" --doc-prefix "S3"
      done
    done
  fi
  if want S4; then
    for server in $SERVERS; do
      echo " - S4 on $server"
      run_one "$server" S4 "$repeat" memory --docs 1000 --bytes 5000 --doc-prefix S4
    done
  fi
  if want S5; then
    for server in $SERVERS; do
      echo " - S5 on $server"
      data="$WORK/$server-S5-r$repeat"
      start_server "$server" "$data"
      # Paced: some servers drop what a connection's queue cannot hold.
      load "$server-S5-build-r$repeat" build --paragraphs 200 --chars 120000 --transactions 20000 --pace 2000 --doc-prefix S5
      [ "$server" != concord ] && settle_dir "$data"
      stop_server
      # The first load after a restart, then a later one on the same server.
      start_server "$server" "$data"
      cut -d' ' -f1-3 /proc/loadavg > "$OUT/$server-S5-r$repeat.load"
      load "$server-S5-r$repeat" coldload --chars 120000 --doc-prefix S5
      load "$server-S5-later-r$repeat" coldload --chars 120000 --doc-prefix S5
      stop_server
    done
  fi
done

python3 bench/report.py "$OUT"
echo "==> report: bench/results/report.md, plot: bench/results/p99.png"
