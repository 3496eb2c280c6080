#!/usr/bin/env bash
# Runs Concord: builds the web page's client if needed, then `concord serve` with embedded
# storage in ./concord-data on 127.0.0.1:8080. Extra arguments go to `concord serve`
# (e.g. `bash scripts/run.sh --demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
exec cargo run --locked --release -p concord-server -- serve "$@"
