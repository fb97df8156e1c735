#!/usr/bin/env bash
# The test command: everything CI checks, runnable on a fresh machine with only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== examples through the CLI"
scripts/examples.sh
