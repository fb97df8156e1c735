#!/usr/bin/env bash
# Runs every example test case through the CLI binary and checks its final status.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p switchyard
bin="${CARGO_TARGET_DIR:-target}/debug/switchyard"

passed=0
failed=0
check() { # example test-case expected-status
  local example=$1 case=$2 expected=$3 out status
  out=$("$bin" run "examples/$example.asl.json" --input "@examples/$example.input.json" \
        --mocks "examples/$example.mocks.json" --test-case "$case" --virtual-time --quiet) || true
  status=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  if [ "$status" = "$expected" ]; then
    echo "ok   $example/$case: $status"
    passed=$((passed + 1))
  else
    echo "FAIL $example/$case: expected $expected, got $status"
    failed=$((failed + 1))
  fi
}

check order-saga HappyPath SUCCEEDED
check order-saga GatewayTimeoutThenCharged SUCCEEDED
check order-saga PaymentDeclined FAILED
check order-saga InvalidOrder FAILED
check human-approval Approved SUCCEEDED
check human-approval NeedsInfoThenApproved SUCCEEDED
check human-approval Rejected FAILED
check human-approval NoAnswer FAILED
check batch-map OneInvalidRecord SUCCEEDED
check batch-map ThrottledThenImported SUCCEEDED
check batch-map TooManyFailures FAILED

for def in examples/*.asl.json; do
  if "$bin" validate "$def" >/dev/null; then
    echo "ok   $def validates"
    passed=$((passed + 1))
  else
    echo "FAIL $def does not validate"
    failed=$((failed + 1))
  fi
done

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
