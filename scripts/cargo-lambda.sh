#!/usr/bin/env bash
# Installs, starts and stops `cargo lambda watch` serving the functions of one
# crate: the test function tests/functions/task-probe (the default, for the
# Lambda task invoker tests), or any other function crate of the workspace,
# e.g. the example functions of the order-processing saga.
#
#   scripts/cargo-lambda.sh install   # cargo-lambda from PyPI into .tools/venv, once per checkout
#   scripts/cargo-lambda.sh [--crate DIR] start     # prints http://127.0.0.1:PORT as its last stdout line
#   scripts/cargo-lambda.sh [--crate DIR] endpoint  # endpoint of the running instance, exit 1 if none
#   scripts/cargo-lambda.sh [--crate DIR] stop      # idempotent
#
# DIR is the crate's directory relative to the repository (default
# tests/functions/task-probe; also SWITCHYARD_LAMBDA_CRATE), e.g.
# `--crate functions/examples`. Each crate has its own instance, port and log,
# so several can run at once: task-probe's under .tools/cargo-lambda/, any
# other's under .tools/cargo-lambda/<DIR with / as ->/.
#
# cargo-lambda comes from PyPI (its wheel ships the binary; ziglang, which it
# needs only to cross-compile, comes along as a dependency and is pinned too).
# The watcher serves the Lambda Invoke API at
# http://127.0.0.1:PORT/2015-03-31/functions/BINARY/invocations for every
# binary of the crate, and builds them with cargo, in the same target
# directory as the tests ($CARGO_TARGET_DIR when set). It runs from the
# crate's directory, where `cargo run --bin BINARY` (how it starts a
# function) finds only that crate's binaries: a binary of another crate is
# never answered (run from the workspace root, one watcher would serve every
# binary of the workspace). It runs with --ignore-changes: the tests need no
# hot reload, and edits elsewhere in the workspace (or its own log) cannot
# make it rebuild. Only stdout's last line of `start` is meant for machines;
# progress goes to stderr.
#
# One instance per crate and checkout: the pid and port files below belong to
# whoever ran `start` last for that crate.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"
default_crate="tests/functions/task-probe"

crate="${SWITCHYARD_LAMBDA_CRATE:-$default_crate}"
command=""
while [ $# -gt 0 ]; do
  case "$1" in
    --crate) [ $# -ge 2 ] || { echo "cargo-lambda: --crate needs a directory" >&2; exit 2; }; crate="$2"; shift 2 ;;
    --crate=*) crate="${1#--crate=}"; shift ;;
    *) [ -z "$command" ] || { echo "usage: $0 [--crate DIR] install|start|stop|endpoint" >&2; exit 2; }; command="$1"; shift ;;
  esac
done
crate="${crate%/}"
crate="${crate#./}"

function_dir="$root/$crate"
if [ "$crate" = "$default_crate" ]; then
  tools="$root/.tools/cargo-lambda"
else
  tools="$root/.tools/cargo-lambda/${crate//\//-}"
fi
pins="cargo-lambda==1.9.2 ziglang==0.17.1"
stamp="$venv/.cargo-lambda-pins"
pid_file="$tools/pid"
port_file="$tools/port"
# The log stays under .tools/, outside the source tree the watcher would look at.
log_file="$tools/watch.log"
ready_timeout=300 # seconds; the first invocation may still (re)build the function

say() { echo "cargo-lambda${crate:+ ($crate)}: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The crate's package name and its first binary (the readiness probe invokes
# it), read from its Cargo.toml: `name = "..."` under [package] and under the
# first [[bin]], or the package name when it declares no [[bin]].
crate_names() {
  python3 - "$function_dir/Cargo.toml" <<'PY'
import re, sys

package, first_bin, section = None, None, None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line.startswith("["):
        section = line
        continue
    m = re.match(r'name\s*=\s*"([^"]+)"', line)
    if m and section == "[package]" and package is None:
        package = m.group(1)
    if m and section == "[[bin]]" and first_bin is None:
        first_bin = m.group(1)
if package is None:
    sys.exit("no [package] name")
print(package, first_bin or package)
PY
}

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

# Invokes the function NAME with {"mode":"echo"} until the function itself
# answers: with a result (task-probe echoes it), or with its own error
# (HTTP 500 with an errorType, as `cargo lambda watch` reports a function
# error; the example functions refuse that input). Gives up after TIMEOUT
# seconds or when process PID dies. The first invocation starts (and if
# needed builds) the function: it may take minutes.
invoke_until_ready() { # port pid timeout name
  python3 - "$@" <<'PY'
import json, os, sys, time, urllib.error, urllib.request

port, pid, timeout = (int(a) for a in sys.argv[1:4])
name = sys.argv[4]
url = f"http://127.0.0.1:{port}/2015-03-31/functions/{name}/invocations"
deadline = time.monotonic() + timeout
while True:
    try:
        req = urllib.request.Request(url, data=b'{"mode":"echo"}', headers={"Content-Type": "application/json"})
        left = max(1.0, deadline - time.monotonic())
        with urllib.request.urlopen(req, timeout=left) as resp:
            if resp.status == 200:
                json.load(resp)
                sys.exit(0)
    except urllib.error.HTTPError as e:
        try:
            if e.code == 500 and "errorType" in json.load(e):
                sys.exit(0)
        except Exception:
            pass
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

  [ -f "$function_dir/Cargo.toml" ] || die "no Cargo.toml in $crate"
  local package probe
  read -r package probe < <(crate_names) || die "cannot read the package name of $crate/Cargo.toml"

  # Built first, so that a compile error shows here rather than as a watcher
  # that never answers (the watcher's `cargo run` then finds it up to date).
  say "building $package (target dir: ${CARGO_TARGET_DIR:-target})"
  (cd "$root" && cargo build -p "$package" --bins >&2) || die "cannot build $package"

  local pid port attempt started
  for attempt in 1 2 3; do
    port=$(free_port)
    started=$SECONDS
    # setsid: its own process group, so `stop` ends the function instances
    # too. Own stdin/stdout/stderr: otherwise `$(cargo-lambda.sh start | tail -n 1)`
    # would wait for the watcher to close the pipe, i.e. forever.
    (cd "$function_dir" && exec setsid "$venv/bin/cargo-lambda" lambda watch --ignore-changes \
      --invoke-address 127.0.0.1 --invoke-port "$port") </dev/null >"$log_file" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    echo "$port" >"$port_file"
    if invoke_until_ready "$port" "$pid" "$ready_timeout" "$probe"; then
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

case "$command" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  endpoint) endpoint ;;
  *)
    echo "usage: $0 [--crate DIR] install|start|stop|endpoint" >&2
    exit 2
    ;;
esac
