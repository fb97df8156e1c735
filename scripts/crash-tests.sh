#!/usr/bin/env bash
# The crash tests: `switchyard serve` SIGKILLed and restarted on the same
# DynamoDB table (tests/crash). They get a DynamoDB Local of their own, a
# named instance keeping its tables in files (-dbPath under a temporary
# directory), so that a kill of serve loses nothing DynamoDB had answered.
#
#   scripts/crash-tests.sh [PYTEST ARGS...]
#
# The binary is $SWITCHYARD_BIN, or ${CARGO_TARGET_DIR:-target}/debug/switchyard.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTO3_VERSION=1.44.5
PYTEST_VERSION=9.2.0

bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"
if [ ! -x "$bin" ]; then
  echo "crash-tests: no switchyard binary at $bin: build it first (cargo build -p switchyard) or set SWITCHYARD_BIN" >&2
  exit 1
fi
SWITCHYARD_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SWITCHYARD_BIN

venv=.tools/venv
# shellcheck source=scripts/lib/service.sh
. scripts/lib/service.sh
venv_install "$venv" "$venv/.crash-tests-pins" "boto3==$BOTO3_VERSION" "pytest==$PYTEST_VERSION"

db=$(mktemp -d)
export SWITCHYARD_DYNAMODB_INSTANCE=crash
trap 'scripts/dynamodb-local.sh stop || true; rm -rf "$db"' EXIT
SWITCHYARD_CRASH_DYNAMODB_ENDPOINT=$(SWITCHYARD_DYNAMODB_DB_PATH="$db" scripts/dynamodb-local.sh start | tail -n 1)
export SWITCHYARD_CRASH_DYNAMODB_ENDPOINT
echo "== crash tests: DynamoDB Local (tables in files) at $SWITCHYARD_CRASH_DYNAMODB_ENDPOINT"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest tests/crash -q -s -ra -p no:cacheprovider "$@"
