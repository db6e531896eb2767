#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test the Action. Idempotent: each tool is
# installed only when missing or at the wrong version (cargo installs take minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

log() { echo "[install-tools] $*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # --locked fails on this registry mirror (a pinned transitive version is missing), so no --locked.
  cargo install wasm-bindgen-cli --version "=$want" --force
fi

if ! command -v wasm-pack >/dev/null 2>&1; then
  log "installing wasm-pack"
  cargo install wasm-pack --locked
fi


# node_modules/node22 and node18 are the Node 22 and 18 binaries the suite also runs on.
if [ -f package-lock.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ ! -x node_modules/node22/bin/node ] || [ ! -x node_modules/node18/bin/node ]; }; then
  log "installing npm dev dependencies"
  npm ci --no-audit --no-fund
fi
log "ok: $(wasm-bindgen --version), $(wasm-pack --version), node $(node --version) (tests also on $(node_modules/node22/bin/node --version) and $(node_modules/node18/bin/node --version))"
