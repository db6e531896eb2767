#!/usr/bin/env bash
# Property-based fuzzing of the pure core (tests/fuzz_core.rs), as `npm run fuzz`:
# FUZZ_CASES generated inputs in total (default 100000) in a release build, then the total
# case count and the wall time. FUZZ_SEED=N replays a run (each run prints its seed).
#
# Overflow checks and debug assertions are on, so integer overflow (which the shipped
# wasm would silently wrap) fails the run instead of going unnoticed. Because of these
# profile overrides the build has its own target dir (target/fuzz), leaving target/release
# untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

export FUZZ_CASES="${FUZZ_CASES:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/fuzz}"
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

t0=$(now)
cargo test --release --test fuzz_core --no-run
t1=$(now)
status=0
FUZZ_CASES=${FUZZ_CASES:-100000} cargo test --release --test fuzz_core -- --nocapture 2>&1 |
  tee "$log" || status=$?
t2=$(now)

total=$(sed -n 's/^fuzz_core: TOTAL \([0-9]*\) cases.*/\1/p' "$log" | tail -n 1)
if [ -z "$total" ]; then
  # A property failed before all finished: add up the per-property counts.
  total=$(awk '$1 == "fuzz_core:" && $4 == "cases" && $5 == "in" { n += $3 } END { print n + 0 }' "$log")
fi
echo
echo "fuzz: $total cases (FUZZ_CASES=$FUZZ_CASES) in $(secs "$t2" "$t1")s wall time" \
  "(+ $(secs "$t1" "$t0")s build)"
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $status); replay with the FUZZ_SEED printed above"
fi
exit "$status"
