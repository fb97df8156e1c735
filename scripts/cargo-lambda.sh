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

process_pattern="*cargo-lambda*watch*"
kill_group=true # the watcher leads its own process group (setsid below): its function instances go with it

say() { echo "cargo-lambda${crate:+ ($crate)}: $*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck source=scripts/lib/service.sh
. "$root/scripts/lib/service.sh"

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
  # shellcheck disable=SC2086 # $pins is a list of words
  venv_install "$venv" "$stamp" $pins || die "cannot install $pins"
  [ -x "$venv/bin/cargo-lambda" ] || die "pip installed no cargo-lambda binary into ${venv#"$root"/}/bin"
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

ready() { # port pid
  invoke_until_ready "$1" "$2" "$ready_timeout" "$probe"
}

# setsid: its own process group, so `stop` ends the function instances too.
launch() { # port
  cd "$function_dir" && exec setsid "$venv/bin/cargo-lambda" lambda watch --ignore-changes \
    --invoke-address 127.0.0.1 --invoke-port "$1"
}

start() {
  install
  [ -f "$function_dir/Cargo.toml" ] || die "no Cargo.toml in $crate"
  local package
  read -r package probe < <(crate_names) || die "cannot read the package name of $crate/Cargo.toml"

  # Built first, so that a compile error shows here rather than as a watcher
  # that never answers (the watcher's `cargo run` then finds it up to date).
  say "building $package (target dir: ${CARGO_TARGET_DIR:-target})"
  (cd "$root" && cargo build -p "$package" --bins >&2) || die "cannot build $package"

  service_start launch ready
  echo "http://127.0.0.1:$service_port"
}

case "$command" in
  install) install ;;
  start) start ;;
  stop) service_stop ;;
  endpoint) service_endpoint ;;
  *)
    echo "usage: $0 [--crate DIR] install|start|stop|endpoint" >&2
    exit 2
    ;;
esac
