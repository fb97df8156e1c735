#!/usr/bin/env bash
# Installs, starts and stops a throwaway moto server (AWS service fakes; the
# timer adapters' tests use its SQS and EventBridge Scheduler).
#
#   scripts/moto.sh install   # moto[server] from PyPI into .tools/venv, once per pin
#   scripts/moto.sh start     # prints http://127.0.0.1:PORT as its last stdout line
#   scripts/moto.sh endpoint  # endpoint of the running instance, exit 1 if none
#   scripts/moto.sh stop      # idempotent
#
# moto shares the virtualenv .tools/venv with scripts/api-tests.sh (gitignored),
# each with its own stamp file of pins: it is reinstalled only when the pin
# below changes. Its pid, port and log live in .tools/moto/. Only stdout's last
# line of `start` is meant for machines; progress goes to stderr.
#
# One instance per checkout, as with scripts/dynamodb-local.sh: the pid and
# port files belong to whoever ran `start` last.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
moto_version="5.2.5"
venv="$root/.tools/venv"
stamp="$venv/.moto-pins"
pins="moto[server]==$moto_version"
tools="$root/.tools/moto"
pid_file="$tools/pid"
port_file="$tools/port"
# The log stays under .tools/, outside every source tree a watcher looks at.
log_file="$tools/run.log"
ready_timeout=60 # seconds; it usually answers after 1–3 s

say() { echo "moto: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- install ------------------------------------------------------------------

install() {
  if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pins" ]; then
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to install moto"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtualenv ${venv#"$root"/}"
    python3 -m venv "$venv" >&2 || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  fi
  say "installing $pins into ${venv#"$root"/}"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q "$pins" >&2
  [ -x "$venv/bin/moto_server" ] || die "pip installed $pins, but there is no $venv/bin/moto_server"
  echo "$pins" >"$stamp"
}

# --- running instance ----------------------------------------------------------

# The recorded pid, if that process is alive and really is moto_server (a
# stale pid file may name a recycled pid).
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
    *moto_server*) echo "$pid" ;;
    *) return 1 ;;
  esac
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
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

# Asks 127.0.0.1:PORT for moto's own state dump (GET /moto-api/data.json) until
# it answers HTTP 200 with a JSON object, giving up after TIMEOUT seconds or
# when process PID dies. An open port alone does not prove it: the server
# binds before its routes are loaded.
moto_ready() { # port pid timeout
  python3 - "$@" <<'PY'
import json, os, sys, time, urllib.request

port, pid, timeout = (int(a) for a in sys.argv[1:4])
deadline = time.monotonic() + timeout
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=5) as resp:
            if resp.status == 200 and isinstance(json.load(resp), dict):
                sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("moto_server exited")
    if time.monotonic() > deadline:
        sys.exit(f"no answer after {timeout} s")
    time.sleep(0.2)
PY
}

start() {
  install
  if running_pid >/dev/null; then
    say "replacing an instance left running by an earlier run"
  fi
  stop 2>/dev/null
  mkdir -p "$tools"

  local pid port attempt started
  # The port is picked first and bound by moto a moment later; another process
  # can grab it in between, so try a few ports before giving up.
  for attempt in 1 2 3; do
    port=$(free_port)
    started=$SECONDS
    # Own stdin/stdout/stderr: otherwise `$(moto.sh start | tail -n 1)` would
    # wait for the server to close the pipe, i.e. forever.
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$log_file" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    echo "$port" >"$port_file"
    if moto_ready "$port" "$pid" "$ready_timeout"; then
      break
    fi
    stop 2>/dev/null
    say "attempt $attempt failed; last lines of ${log_file#"$root"/}:"
    tail -n 20 "$log_file" >&2 || true
    [ "$attempt" -lt 3 ] || die "moto_server did not start"
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
