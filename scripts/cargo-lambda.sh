#!/usr/bin/env bash
# Installs, starts and stops `cargo lambda watch` serving the test function
# tests/functions/task-probe, for the Lambda task invoker tests.
#
#   scripts/cargo-lambda.sh install   # cargo-lambda from PyPI into .tools/venv, once per checkout
#   scripts/cargo-lambda.sh start     # prints http://127.0.0.1:PORT as its last stdout line
#   scripts/cargo-lambda.sh endpoint  # endpoint of the running instance, exit 1 if none
#   scripts/cargo-lambda.sh stop      # idempotent
#
# cargo-lambda comes from PyPI (its wheel ships the binary; ziglang, which it
# needs only to cross-compile, comes along as a dependency and is pinned too).
# The watcher serves the Lambda Invoke API at
# http://127.0.0.1:PORT/2015-03-31/functions/task-probe/invocations and builds
# the function with cargo, in the same target directory as the tests
# ($CARGO_TARGET_DIR when set). It runs with --ignore-changes: the tests need
# no hot reload, and edits elsewhere in the workspace (or its own log) cannot
# make it rebuild. Only stdout's last line of `start` is meant for machines;
# progress goes to stderr.
#
# One instance per checkout: the pid and port files below belong to whoever
# ran `start` last.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"
tools="$root/.tools/cargo-lambda"
function_dir="$root/tests/functions/task-probe"
function_name="task-probe"
pins="cargo-lambda==1.9.2 ziglang==0.17.1"
stamp="$venv/.cargo-lambda-pins"
pid_file="$tools/pid"
port_file="$tools/port"
# The log stays under .tools/, outside the source tree the watcher would look at.
log_file="$tools/watch.log"
ready_timeout=300 # seconds; the first invocation may still (re)build the function

say() { echo "cargo-lambda: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- install ------------------------------------------------------------------

install() {
  if [ -x "$venv/bin/cargo-lambda" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pins" ]; then
    return
  fi
  say "installing $pins into ${venv#"$root"/}"
  mkdir -p "$(dirname "$venv")"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # shellcheck disable=SC2086 # $pins is a list of words
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q $pins >&2
  [ -x "$venv/bin/cargo-lambda" ] || die "pip installed no cargo-lambda binary into ${venv#"$root"/}/bin"
  echo "$pins" >"$stamp"
}

# --- running instance ----------------------------------------------------------

# The recorded pid, if that process is alive and really is our watcher (a
# stale pid file may name a recycled pid).
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
    *cargo-lambda*watch*) echo "$pid" ;;
    *) return 1 ;;
  esac
}

stop() {
  local pid
  if pid=$(running_pid); then
    # The watcher leads its own process group (setsid below): the function
    # instances it spawned go with it.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 -- "-$pid" 2>/dev/null || true
    say "stopped (pid $pid)"
  fi
  rm -f "$pid_file" "$port_file"
}

endpoint() {
  running_pid >/dev/null && [ -s "$port_file" ] || return 1
  echo "http://127.0.0.1:$(cat "$port_file")"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Invokes the function with {"mode":"echo"} until it answers {"echo": ...},
# giving up after TIMEOUT seconds or when process PID dies. The first
# invocation starts (and if needed builds) the function: it may take minutes.
invoke_until_ready() { # port pid timeout
  python3 - "$@" "$function_name" <<'PY'
import json, os, sys, time, urllib.request

port, pid, timeout = (int(a) for a in sys.argv[1:4])
name = sys.argv[4]
url = f"http://127.0.0.1:{port}/2015-03-31/functions/{name}/invocations"
deadline = time.monotonic() + timeout
while True:
    try:
        req = urllib.request.Request(url, data=b'{"mode":"echo"}', headers={"Content-Type": "application/json"})
        left = max(1.0, deadline - time.monotonic())
        with urllib.request.urlopen(req, timeout=left) as resp:
            if resp.status == 200 and "echo" in json.load(resp):
                sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("cargo lambda watch exited")
    if time.monotonic() > deadline:
        sys.exit(f"no answer after {timeout} s")
    time.sleep(0.5)
PY
}

start() {
  install
  if running_pid >/dev/null; then
    say "replacing an instance left running by an earlier run"
  fi
  stop 2>/dev/null
  mkdir -p "$tools"

  # Built first, so that a compile error shows here rather than as a watcher
  # that never answers (the watcher's `cargo run` then finds it up to date).
  say "building $function_name (target dir: ${CARGO_TARGET_DIR:-target})"
  (cd "$root" && cargo build -p "$function_name" --bin "$function_name" >&2) || die "cannot build $function_name"

  local pid port attempt started
  for attempt in 1 2 3; do
    port=$(free_port)
    started=$SECONDS
    # setsid: its own process group, so `stop` ends the function instances
    # too. Own stdin/stdout/stderr: otherwise `$(cargo-lambda.sh start | tail -n 1)`
    # would wait for the watcher to close the pipe, i.e. forever.
    (cd "$function_dir" && exec setsid "$venv/bin/cargo-lambda" lambda watch --ignore-changes \
      --invoke-address 127.0.0.1 --invoke-port "$port" --bin "$function_name") </dev/null >"$log_file" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    echo "$port" >"$port_file"
    if invoke_until_ready "$port" "$pid" "$ready_timeout"; then
      break
    fi
    stop 2>/dev/null
    say "attempt $attempt failed; last lines of ${log_file#"$root"/}:"
    tail -n 20 "$log_file" >&2 || true
    [ "$attempt" -lt 3 ] || die "cargo lambda watch did not start"
  done
  say "answering on port $port after $((SECONDS - started)) s (pid $pid, log ${log_file#"$root"/})"
  echo "http://127.0.0.1:$port"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  endpoint) endpoint ;;
  *)
    echo "usage: $0 install|start|stop|endpoint" >&2
    exit 2
    ;;
esac
