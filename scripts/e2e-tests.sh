#!/usr/bin/env bash
# The end-to-end local test: the order-processing saga (examples/order-saga)
# run for real — its task functions (functions/examples) under `cargo lambda
# watch`, `switchyard serve` on DynamoDB Local, the AWS CLI as the client; no
# mocks. See tests/e2e/.
#
#   scripts/e2e-tests.sh [PYTEST ARGS...]
#
# Uses what is already running and starts (and at the end stops) only what is
# not: DynamoDB Local ($SWITCHYARD_DYNAMODB_ENDPOINT, else the instance
# scripts/dynamodb-local.sh knows of, else a new one) and the watcher of the
# example functions ($SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT, else
# `scripts/cargo-lambda.sh --crate functions/examples`). The switchyard binary
# is $SWITCHYARD_BIN, else ${CARGO_TARGET_DIR:-target}/debug/switchyard, built
# with `cargo build -p switchyard` when missing. The Python packages (the AWS
# CLI, pytest) are scripts/api-tests.sh's pins, in .tools/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

AWSCLI_VERSION=1.46.3
PYTEST_VERSION=9.2.0

say() { echo "== e2e-tests: $*" >&2; }

started=()
cleanup() {
  local what
  for what in ${started[@]+"${started[@]}"}; do
    case "$what" in
      dynamodb) scripts/dynamodb-local.sh stop || true ;;
      examples) scripts/cargo-lambda.sh --crate functions/examples stop || true ;;
    esac
  done
}
trap cleanup EXIT

# The binary.
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"
if [ ! -x "$bin" ]; then
  say "no switchyard binary at $bin: cargo build -p switchyard"
  cargo build -p switchyard
fi
SWITCHYARD_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SWITCHYARD_BIN

# The AWS CLI and pytest (already there when scripts/api-tests.sh ran: pip
# then only confirms them).
venv=.tools/venv
# shellcheck source=scripts/lib/service.sh
. scripts/lib/service.sh
venv_install "$venv" "$venv/.e2e-tests-pins" "awscli==$AWSCLI_VERSION" "pytest==$PYTEST_VERSION"

# DynamoDB Local.
if [ -z "${SWITCHYARD_DYNAMODB_ENDPOINT:-}" ]; then
  if ! SWITCHYARD_DYNAMODB_ENDPOINT=$(scripts/dynamodb-local.sh endpoint); then
    started+=(dynamodb)
    SWITCHYARD_DYNAMODB_ENDPOINT=$(scripts/dynamodb-local.sh start | tail -n 1)
  fi
fi
export SWITCHYARD_DYNAMODB_ENDPOINT
say "DynamoDB Local at $SWITCHYARD_DYNAMODB_ENDPOINT"

# cargo lambda watch serving the example functions.
if [ -z "${SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT:-}" ]; then
  if ! SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT=$(scripts/cargo-lambda.sh --crate functions/examples endpoint); then
    started+=(examples)
    SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT=$(scripts/cargo-lambda.sh --crate functions/examples start | tail -n 1)
  fi
fi
export SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT
say "example functions under cargo lambda watch at $SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT" \
  "(log: .tools/cargo-lambda/functions-examples/watch.log)"

PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest tests/e2e -q -ra -p no:cacheprovider "$@"
