#!/usr/bin/env bash
# The workloads of examples/workloads through the whole local stack, in the
# release profile: API Gateway and the api function start the executions,
# the stepper advances them by invoking itself asynchronously, DescribeExecution
# is polled while they run (tests/local_stack/bench.py prints one JSON object
# per run). The stack runs with AWS's own timings except the schedules
# (every 60 s); the README quotes the figures with their date and machine.
#
#   scripts/stack-bench.sh [--quick]     # --quick: smaller runs, for a smoke test
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = --quick ] && quick=true

trap 'scripts/stack-local.sh --down || true' EXIT
scripts/stack-local.sh --release --schedule-every 60 >/dev/null
bench() { .tools/venv/bin/python tests/local_stack/bench.py "$@"; }
if $quick; then
  bench --workload pass-chain-100 --executions 2
  bench --workload map-items --items 100
else
  bench --workload pass-chain-100 --executions 8
  bench --workload choice-loop --n 1000
  bench --workload map-items --items 1000
  bench --workload map-items
fi
