#!/usr/bin/env bash
# Runs every test Concord has, installing what the tests need first. Idempotent: whatever is
# already installed is skipped. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
command -v openssl >/dev/null || missing+=(openssl)   # key pairs for the JWT tests
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
# The stock Yjs client for the interop tests, from the committed lock file.
if ! cmp -s tests/interop/package-lock.json tests/interop/node_modules/.concord-installed-lock 2>/dev/null; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/interop/package-lock.json tests/interop/node_modules/.concord-installed-lock
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "wasm32 build of the browser client"
cargo build --locked -p concord-client-wasm --target wasm32-unknown-unknown

step "tests"
cargo test --workspace --locked
