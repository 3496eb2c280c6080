#!/usr/bin/env bash
# Runs Concord's performance scenarios against Concord and the Yjs reference server
# (@y/websocket-server 0.1.1), side by side on this machine, and writes a report.
#
#   bash bench/run.sh            # everything (about 15 minutes)
#   S3_STEPS="500 1000" DURATION=5 bash bench/run.sh   # a quicker look
#   SERVERS=concord SCENARIOS="S5" bash bench/run.sh   # one server, some scenarios
#
# Scenarios (each bounded in time):
#   S1  50 clients, 10 writers at 5 edits/s
#   S2  500 clients, 10 writers at 5 edits/s
#   S3  500..10000 clients on one document: the largest count with p99 < 100 ms, nothing lost
#   S4  memory per document, 1000 documents of 5 KB held open
#   S5  cold load of a 200-paragraph, 120,000-character document with 20,000 transactions
# Output: bench/results/*.json, bench/results/report.md, bench/results/p99.png
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/results
DURATION=${DURATION:-10}
S3_STEPS=${S3_STEPS:-"500 1000 2000 5000 10000"}
SERVERS=${SERVERS:-"concord reference"}
SCENARIOS=${SCENARIOS:-"S1 S2 S3 S4 S5"}
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
mkdir -p "$OUT"
for server in $SERVERS; do
  for scenario in $SCENARIOS; do rm -f "$OUT/$server-$scenario".json "$OUT/$server-$scenario"-*.json; done
done
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT

echo "==> building (release)"
cargo build --release --locked -p concord-server -p concord-load >/dev/null
LOAD=$ROOT/target/release/concord-load
CONCORD=$ROOT/target/release/concord

echo "==> reference server (npm, into bench/peers/node_modules)"
if ! cmp -s bench/peers/package-lock.json bench/peers/node_modules/.concord-installed-lock 2>/dev/null; then
  (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
  cp bench/peers/package-lock.json bench/peers/node_modules/.concord-installed-lock
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

for server in $SERVERS; do
  echo "==> $server"
  for scenario in "S1 50" "S2 500"; do
    set -- $scenario
    want "$1" || continue
    echo " - $1"
    start_server "$server" "$WORK/$server-$1"
    load "$server-$1" run --clients "$2" --writers 10 --rate 5 --duration "$DURATION" --doc-prefix "$1"
    stop_server
    # How long broadcasts waited for their commit (Concord logs it as each room retires).
    if [ "$server" = concord ]; then
      sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" \
        | grep -o 'broadcasts=[0-9]* p50_us=[0-9]* p99_us=[0-9]*' | sed 's/^/   commit wait: /' || true
    fi
  done
  want S3 || S3_STEPS=""
  for clients in $S3_STEPS; do
    echo " - S3 with $clients clients"
    start_server "$server" "$WORK/$server-S3-$clients"
    load "$server-S3-$clients" run --clients "$clients" --writers 10 --rate 5 --duration "$DURATION" --doc-prefix "S3"
    stop_server
  done
  if want S4; then
    echo " - S4"
    start_server "$server" "$WORK/$server-S4"
    load "$server-S4" memory --docs 1000 --bytes 5000 --doc-prefix S4
    stop_server
  fi
  want S5 || continue
  echo " - S5"
  start_server "$server" "$WORK/$server-S5"
  load "$server-S5-build" build --paragraphs 200 --chars 120000 --transactions 20000 --doc-prefix S5
  [ "$server" = reference ] && settle_dir "$WORK/$server-S5"
  stop_server
  start_server "$server" "$WORK/$server-S5"
  load "$server-S5" coldload --chars 120000 --doc-prefix S5
  stop_server
done

python3 bench/report.py "$OUT"
echo "==> report: bench/results/report.md, plot: bench/results/p99.png"
