#!/usr/bin/env bash
# Builds the web page's client (client-wasm, compiled to wasm32 and bound with wasm-bindgen) into
# client-wasm/web/pkg, which `concord serve` serves at `/`. Installs the pinned tools when they
# are missing; skips whatever is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the wasm-bindgen crate's version in client-wasm/Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  # Without --locked: the CLI's own lock file does not resolve against this registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
# Small and without debug info: this is what browsers download.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  cargo build --locked --release -p concord-client-wasm --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir client-wasm/web/pkg \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/concord_client_wasm.wasm"
# Served gzipped to browsers that accept it (about a quarter of the size).
gzip -9 -k -f client-wasm/web/pkg/concord_client_wasm_bg.wasm
