#!/usr/bin/env bash
# The tests of the whole stack on this machine: scripts/stack-local.sh brings
# up template.yaml's functions, table, queues and API (with the test
# settings below), then three suites run against it:
#
#   1. tests/api — the Step Functions API suite, its third target beside
#      `serve` on memory and on DynamoDB Local (scripts/api-tests.sh), with
#      every request signed for API Gateway's IAM auth as docs/deploy.md says;
#   2. tests/e2e — the order-processing saga with the stack's own example functions;
#   3. tests/local_stack — the emulator's own contract, timers through the SQS
#      event source mapping and through Scheduler, a delivery recovered from
#      the dead-letter queue, the stepper killed mid-run;
#
# then the README's commands for the local stack, as written.
#
#   scripts/stack-tests.sh [PYTEST ARGS...]
#
# Test settings: the functions' schedules every 3 s, Lambda's asynchronous
# retries after 1 and 2 s, the timer queue's visibility timeout 5 s
# (scripts/stack-local.sh --test-settings); waits over 30 s through Scheduler
# (SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS=30 on the stepper); and a function
# `approver` (tests/functions/task-probe) for the API suite's callback tasks.
# The stack is stopped at the end, however the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTO3_VERSION=1.44.5
AWSCLI_VERSION=1.46.3
PYTEST_VERSION=9.2.0

say() { echo "== stack-tests: $*" >&2; }

venv=.tools/venv
# shellcheck source=scripts/lib/service.sh
. scripts/lib/service.sh
venv_install "$venv" "$venv/.stack-tests-pins" "boto3==$BOTO3_VERSION" "awscli==$AWSCLI_VERSION" "pytest==$PYTEST_VERSION"

say "building the approver (tests/functions/task-probe)"
cargo build -p task-probe --bins >&2
# The switchyard CLI, a client of the stack in tests/local_stack.
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchyard}"
[ -x "$bin" ] || cargo build -p switchyard >&2
SWITCHYARD_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SWITCHYARD_BIN

trap 'scripts/stack-local.sh --down || true' EXIT
endpoint=$(scripts/stack-local.sh --test-settings --extra-function approver=task-probe \
  --env StepperFunction:SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS=30 | tail -n 1)
say "the local stack's API at $endpoint (logs: .tools/stack-local/logs/)"

export SWITCHYARD_API_ENDPOINT="$endpoint" SWITCHYARD_API_SIGNING=execute-api
status=0
for suite in tests/api tests/e2e tests/local_stack; do
  say "$suite on the local stack"
  PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest "$suite" -q -ra -p no:cacheprovider "$@" || status=1
done

# As a newcomer would: the README's commands for the local stack, as written
# (the AWS CLI of .tools/venv on the PATH, the switchyard CLI through cargo).
if [ $status -eq 0 ]; then
  scripts/stack-local.sh --down
  say "the README's commands (\"The stack on your laptop\")"
  commands=$(python3 - <<'PY'
import re
text = open("README.md", encoding="utf-8").read()
m = re.search(r"<!-- stack-local: README commands[^>]*-->\n```sh\n(.*?)```", text, re.S)
print(m.group(1) if m else "echo 'the README lost its stack-local commands' >&2; exit 1")
PY
)
  if ! out=$(env -u SWITCHYARD_API_ENDPOINT -u SWITCHYARD_API_SIGNING PATH="$PWD/$venv/bin:$PATH" \
    bash -euo pipefail -c "$commands" 2>&1); then
    echo "$out" >&2
    say "the README's commands failed"
    status=1
  elif ! grep -q '"status": "SUCCEEDED"' <<<"$out"; then
    echo "$out" >&2
    say "the README's commands did not show a SUCCEEDED execution"
    status=1
  fi
fi
if [ $status -ne 0 ]; then
  say "failed; the emulator's log (last 40 lines of .tools/stack-local/emulator.log):"
  tail -n 40 .tools/stack-local/emulator.log >&2 || true
fi
exit $status
