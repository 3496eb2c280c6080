#!/usr/bin/env bash
# Several nodes under load: Redis and three Concord nodes on this machine, the load
# generator's clients spread over the three (client i on node i mod 3), so that most
# deliveries cross nodes. Reports, per run, delivery latency (p50, p99), lost deliveries and
# CPU per delivered update per node and in all.
#
#   bash bench/cluster.sh                       # S2 and S3 (500, 1000, 2000, 4000 clients)
#   S3_STEPS="500 1000" DURATION=5 bash bench/cluster.sh
#
# Output: bench/results/cluster-*.json. Failover time (owner killed to the first accepted edit
# on its successor) is measured by the end-to-end test
# `cargo test -p concord-tests --test e2e cluster::the_owner_killed -- --nocapture`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/results
DURATION=${DURATION:-10}
S3_STEPS=${S3_STEPS:-"500 1000 2000 4000"}
mkdir -p "$OUT"
command -v redis-server >/dev/null || { echo "needs redis-server: apt-get install -y redis-server" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop_all; rm -rf "$WORK"' EXIT

echo "==> building (release)"
cargo build --release --locked -p concord-server -p concord-load >/dev/null
LOAD=$ROOT/target/release/concord-load
CONCORD=$ROOT/target/release/concord

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "gave up: $*" >&2; return 1; }

start_cluster() { # $1: a label (a fresh Redis and fresh nodes for every run)
  local dir=$WORK/$1 port
  mkdir -p "$dir/redis"
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/redis" --appendonly yes \
    --appendfsync always --save "" >"$dir/redis.log" 2>&1 &
  PIDS+=($!)
  wait_for redis-cli -p "$port" ping
  REDIS_URL=redis://127.0.0.1:$port
  URLS=()
  NODE_PIDS=()
  for i in 1 2 3; do
    local node_port
    node_port=$(free_port)
    # The load generator is one mission: its limits are raised, as in bench/run.sh.
    "$CONCORD" serve --listen "127.0.0.1:$node_port" --data-dir "$dir/node$i" --redis "$REDIS_URL" \
      --mission-connections 1000000 --mission-rate 100000000 --mission-burst 100000000 \
      >"$dir/node$i.log" 2>&1 &
    PIDS+=($!)
    NODE_PIDS+=($!)
    wait_for grep -q "^listening on" "$dir/node$i.log"
    URLS+=("ws://127.0.0.1:$node_port/ws/{doc}")
  done
  TOKEN=$("$CONCORD" token --sub load --mission LOAD --role facilitator --docs '*' --redis "$REDIS_URL")
}

load() { # label, then concord-load arguments
  local label=$1; shift
  local urls pids
  urls=$(IFS=,; echo "${URLS[*]}")
  pids=$(IFS=,; echo "${NODE_PIDS[*]}")
  timeout 300 "$LOAD" --threads 1 "$@" --url "$urls" --schema concord --token "$TOKEN" \
    --server-pid "$pids" --label "$label" --json "$OUT/$label.json" 2>"$WORK/load.err" >/dev/null || {
      echo "   $label failed"; tail -5 "$WORK/load.err"; return 0; }
  python3 - "$OUT/$label.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
per = r.get("server_cpu_seconds_per_node") or []
d = max(r["deliveries"], 1)
nodes = " ".join(f"{(c or 0) * 1e6 / d:.2f}" for c in per)
print(f'   {r["label"]}: p50 {r["latency_ms"]["p50"]:.1f} ms, p99 {r["latency_ms"]["p99"]:.1f} ms, '
      f'lost {r["lost"]}, server CPU per delivery {r["server_cpu_us_per_delivery"]:.2f} us '
      f'(per node: {nodes})')
PY
}

echo "==> S2: 500 clients, 10 writers at 5 edits/s, over three nodes"
start_cluster S2
load cluster-S2 run --clients 500 --writers 10 --rate 5 --duration "$DURATION" --doc-prefix S2
stop_all
for clients in $S3_STEPS; do
  echo "==> S3: $clients clients on one document, over three nodes"
  start_cluster "S3-$clients"
  load "cluster-S3-$clients" run --clients "$clients" --writers 10 --rate 5 --duration "$DURATION" --doc-prefix S3
  stop_all
done
