#!/usr/bin/env bash
# The Step Functions API tests: `switchyard serve` driven by real clients
# (boto3 and the AWS CLI from PyPI), once on the in-memory store and once on
# DynamoDB Local (SWITCHYARD_DYNAMODB_ENDPOINT, set by scripts/test.sh).
#
#   scripts/api-tests.sh [--memory-only] [PYTEST ARGS...]
#
# The binary is not built here: it is $SWITCHYARD_BIN, or
# ${CARGO_TARGET_DIR:-target}/debug/switchyard (cargo build -p switchyard).
# --memory-only skips the DynamoDB pass, for local iteration only.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTO3_VERSION=1.44.5
AWSCLI_VERSION=1.46.3 # vendors its own botocore: no pin conflict with boto3
PYTEST_VERSION=9.2.0

memory_only=false
pytest_args=()
for arg in "$@"; do
  case "$arg" in
    --memory-only) memory_only=true ;;
    *) pytest_args+=("$arg") ;;
  esac
done

if ! $memory_only && [ -z "${SWITCHYARD_DYNAMODB_ENDPOINT:-}" ]; then
  echo "api-tests: SWITCHYARD_DYNAMODB_ENDPOINT is not set: run through scripts/test.sh (which starts" >&2
  echo "api-tests: DynamoDB Local), export it yourself, or pass --memory-only for local iteration" >&2
  exit 1
fi

bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"
if [ ! -x "$bin" ]; then
  echo "api-tests: no switchyard binary at $bin: build it first (cargo build -p switchyard) or set SWITCHYARD_BIN" >&2
  exit 1
fi
SWITCHYARD_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SWITCHYARD_BIN

# The virtualenv, reinstalled only when the pins change.
venv=.tools/venv
stamp="$venv/.api-tests-pins"
pins="boto3==$BOTO3_VERSION awscli==$AWSCLI_VERSION pytest==$PYTEST_VERSION"
# shellcheck source=scripts/lib/service.sh
. scripts/lib/service.sh
# shellcheck disable=SC2086 # $pins is a list of words
venv_install "$venv" "$stamp" $pins

run() {
  local mode="$1"
  shift
  echo "== api-tests: serve on $mode"
  PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest tests/api -q -ra -p no:cacheprovider \
    ${pytest_args[@]+"${pytest_args[@]}"}
}

status=0
SWITCHYARD_SERVE_ARGS="" run "the in-memory store" || status=1
if $memory_only; then
  echo "== api-tests: DynamoDB pass skipped (--memory-only)"
else
  SWITCHYARD_SERVE_ARGS="--dynamodb-endpoint $SWITCHYARD_DYNAMODB_ENDPOINT" run "DynamoDB Local" || status=1
fi
exit $status
