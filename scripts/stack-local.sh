#!/usr/bin/env bash
# The stack of template.yaml on this machine, wired as the template wires it:
# the api, stepper, sweeper and example functions (their real binaries, built
# here with cargo) behind an emulated Lambda; the execution table in DynamoDB
# Local, created from the template's own definition (keys, gsi1, TTL); the
# timer queue, its dead-letter queue and the Scheduler group in moto; the
# timer queue's event source mapping, the functions' schedules, Scheduler's
# one-time schedules, asynchronous invocations with Lambda's retries and
# on-failure destination, and API Gateway in front of the api function
# (REST proxy events, IAM auth: requests signed with SigV4 for execute-api).
# The emulator is test support (tests/local_stack/emulator, each behaviour
# citing the AWS documentation it follows), not part of the product.
#
#   scripts/stack-local.sh [up] [--test-settings] [--release] [EMULATOR OPTIONS...]
#       starts it all; prints the API endpoint (http://127.0.0.1:PORT) as
#       its last stdout line
#   scripts/stack-local.sh --down      stops everything `up` started
#   scripts/stack-local.sh endpoint    the running stack's API endpoint
#   scripts/stack-local.sh state       its stack.json: every endpoint, table, queue and function
#
# --test-settings shortens AWS's timings for tests: the functions' schedules
# every 3 s (the sweeper's is every minute, the stepper's recovery every 5),
# Lambda's retries of a failed asynchronous invocation after 1 and 2 s (1
# and 2 minutes), the timer queue's visibility timeout 5 s (5,400). The other
# options go to the emulator as they are (python -m emulator --help in
# tests/local_stack), e.g. `--env StepperFunction:RUST_LOG=debug`. --release
# builds and runs the functions in the release profile (what a deployment
# runs, for benchmarks: scripts/stack-bench.sh).
#
# Needs what the README's test command installs: Rust, Java (DynamoDB Local),
# Python 3 (boto3 and moto into .tools/venv). The functions are built in the
# debug profile into ${CARGO_TARGET_DIR:-target}. State and logs are under
# .tools/stack-local/ (each function's output in logs/<function>.log).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"
tools="$root/.tools/stack-local"
pid_file="$tools/pid"
port_file="$tools/port"
log_file="$tools/run.log"
ready_timeout=60
process_pattern="*python*-m emulator*"
kill_group=true # the emulator leads its process group: the function instances go with it
instance=stack-local
BOTO3_VERSION=1.44.5
PYYAML_VERSION=6.0.4
# The function crates of template.yaml (CodeUri), built before the start.
packages=(stepper sweeper api-function example-functions)

say() { echo "stack-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck source=scripts/lib/service.sh
. "$root/scripts/lib/service.sh"

stack_ready() { # port pid
  python3 - "$@" "$ready_timeout" "$tools/stack.json" <<'PY'
import json, os, sys, time

port, pid, timeout = (int(a) for a in sys.argv[1:4])
state = sys.argv[4]
deadline = time.monotonic() + timeout
while True:
    try:
        with open(state) as f:
            if json.load(f).get("api") == f"http://127.0.0.1:{port}":
                sys.exit(0)
    except (OSError, ValueError):
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the emulator exited")
    if time.monotonic() > deadline:
        sys.exit(f"not up after {timeout} s")
    time.sleep(0.2)
PY
}

emulator_args=()
launch() { # port
  cd "$root/tests/local_stack" && exec setsid "$venv/bin/python" -m emulator --root "$root" \
    --bin-dir "$bin_dir" --state-dir "$tools" --dynamodb "$dynamodb" --moto "$moto" --api-port "$1" \
    ${emulator_args[@]+"${emulator_args[@]}"}
}

up() {
  local arg profile=debug
  for arg in "$@"; do
    case "$arg" in
      --release) profile=release ;;
      --test-settings)
        emulator_args+=(--schedule-every 3 --retry-delays 1,2 --queue-attribute TimerQueue:VisibilityTimeout=5)
        ;;
      *) emulator_args+=("$arg") ;;
    esac
  done
  mkdir -p "$tools"
  venv_install "$venv" "$venv/.stack-local-pins" "boto3==$BOTO3_VERSION" "pyyaml==$PYYAML_VERSION" ||
    die "cannot install boto3 and PyYAML"
  say "building ${packages[*]} (target dir: ${CARGO_TARGET_DIR:-target})"
  local pkg_args=()
  for p in "${packages[@]}"; do pkg_args+=(-p "$p"); done
  if [ "$profile" = release ]; then pkg_args+=(--release); fi
  (cd "$root" && cargo build "${pkg_args[@]}" --bins >&2) || die "cannot build the functions"
  local target="${CARGO_TARGET_DIR:-$root/target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  bin_dir="$target/$profile"
  rm -f "$tools/stack.json"
  dynamodb=$(SWITCHYARD_DYNAMODB_INSTANCE=$instance "$root/scripts/dynamodb-local.sh" start | tail -n 1)
  moto=$(SWITCHYARD_MOTO_INSTANCE=$instance "$root/scripts/moto.sh" start | tail -n 1)
  service_start launch stack_ready
  say "up: the API at http://127.0.0.1:$service_port (state: ${tools#"$root"/}/stack.json, logs: ${tools#"$root"/}/logs/)"
  echo "http://127.0.0.1:$service_port"
}

down() {
  service_stop
  SWITCHYARD_MOTO_INSTANCE=$instance "$root/scripts/moto.sh" stop || true
  SWITCHYARD_DYNAMODB_INSTANCE=$instance "$root/scripts/dynamodb-local.sh" stop || true
  rm -f "$tools/stack.json"
}

case "${1:-up}" in
  up) [ $# -gt 0 ] && shift; up "$@" ;;
  --down | down) down ;;
  --*) up "$@" ;;
  endpoint) service_endpoint ;;
  state) service_running_pid >/dev/null && cat "$tools/stack.json" ;;
  *)
    echo "usage: $0 [up] [--test-settings] [--release] [EMULATOR OPTIONS...] | --down | endpoint | state" >&2
    exit 2
    ;;
esac
