#!/usr/bin/env bash
# Several nodes on this machine, to try them: one Redis and three Concord nodes sharing it.
#
#   bash scripts/cluster.sh start   builds, starts Redis (127.0.0.1:6390) and nodes on
#                                    127.0.0.1:8081-8083, and prints sign-in links
#   bash scripts/cluster.sh stop    stops what `start` started (by the process ids it wrote)
#
# Everything lives in ./concord-cluster (CONCORD_CLUSTER_DIR). Redis runs as Concord requires:
# append-only file on, fsynced at every write. Kill a node (kill -9 "$(cat
# concord-cluster/node1.pid)") and the others take its documents over within a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${CONCORD_CLUSTER_DIR:-concord-cluster}
REDIS_PORT=${CONCORD_CLUSTER_REDIS_PORT:-6390}
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
BIN=target/release/concord
DOC=demo

# Waits (at most 10 s) until the command succeeds.
wait_for() {
  for _ in $(seq 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "gave up waiting for: $*" >&2
  return 1
}

start() {
  command -v redis-server >/dev/null || { echo "needs redis-server: apt-get install -y redis-server" >&2; exit 1; }
  bash scripts/build-web.sh
  cargo build --locked --release -p concord-server
  mkdir -p "$DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$PWD/$DIR/redis" \
    --appendonly yes --appendfsync always --save "" \
    --daemonize yes --pidfile "$PWD/$DIR/redis.pid" --logfile "$PWD/$DIR/redis.log"
  wait_for redis-cli -p "$REDIS_PORT" ping
  for i in 1 2 3; do
    "$BIN" serve --listen "127.0.0.1:808$i" --data-dir "$DIR/node$i" --redis "$REDIS_URL" \
      >"$DIR/node$i.log" 2>&1 &
    echo $! >"$DIR/node$i.pid"
  done
  for i in 1 2 3; do wait_for grep -q "^listening on" "$DIR/node$i.log"; done
  token() { "$BIN" token --redis "$REDIS_URL" --docs "$DOC" --sub "$1" --mission "$2" --role "$3"; }
  local chair mex che
  chair=$(token "Co-facilitator" UN facilitator)
  mex=$(token "Ana Ruiz" MEX delegation)
  che=$(token "Ben Keller" CHE delegation)
  # A short text to work on (refused, harmlessly, if the document already has one).
  curl -s -o /dev/null -X POST "http://127.0.0.1:8081/api/docs/$DOC/commands" \
    -H "authorization: Bearer $chair" -H 'content-type: application/json' \
    -d '{"type":"import-text","text":"# Preamble\n\n[1] We, the Heads of State and Government, have met to co-draft this text.\n\n[2] Each node of this cluster serves every paragraph."}'
  echo "Redis at $REDIS_URL; nodes on 127.0.0.1:8081, :8082, :8083 (logs in $DIR/)"
  echo "  facilitator, node 1:  http://127.0.0.1:8081/#doc=$DOC&token=$chair"
  echo "  MEX delegate, node 2: http://127.0.0.1:8082/#doc=$DOC&token=$mex"
  echo "  CHE delegate, node 3: http://127.0.0.1:8083/#doc=$DOC&token=$che"
  echo "Stop with: bash scripts/cluster.sh stop"
}

stop() {
  for i in 1 2 3; do
    if [ -f "$DIR/node$i.pid" ]; then
      kill "$(cat "$DIR/node$i.pid")" 2>/dev/null || true
      rm -f "$DIR/node$i.pid"
    fi
  done
  if [ -f "$DIR/redis.pid" ]; then
    kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    rm -f "$DIR/redis.pid"
  fi
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: bash scripts/cluster.sh start|stop" >&2; exit 2 ;;
esac
