#!/usr/bin/env bash
# The whole test suite (what `npm test` and CI run): lints, the pure core on the host, the
# wasm bindings under Node, then the built dist/action.js against the local tenant emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash pkg-scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo; echo "== $*"; }

step "cargo fmt --check"
cargo fmt --check
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
step "node --test (built action against the emulator)"
export SECRET_SCAN_DIR="$PWD/target/secret-scan"
rm -rf "$SECRET_SCAN_DIR" && mkdir -p "$SECRET_SCAN_DIR"
node --test tests/
step "secret hygiene over every Action output of the suite"
node pkg-scripts/scan-secrets.js
