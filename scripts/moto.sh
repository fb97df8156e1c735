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
# port files belong to whoever ran `start` last. SWITCHYARD_MOTO_INSTANCE=NAME
# (letters, digits, - and _) selects a separate, named instance with its own
# pid, port and log files under .tools/moto/instances/NAME/ (the local stack
# of scripts/stack-local.sh has its own); unset, the default instance.
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
process_pattern="*moto_server*"

say() { echo "moto: $*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck source=scripts/lib/service.sh
. "$root/scripts/lib/service.sh"
instance=""
service_instance SWITCHYARD_MOTO_INSTANCE "${SWITCHYARD_MOTO_INSTANCE:-}" moto

install() {
  venv_install "$venv" "$stamp" "$pins" || die "cannot install $pins"
  [ -x "$venv/bin/moto_server" ] || die "pip installed $pins, but there is no $venv/bin/moto_server"
}

# Asks 127.0.0.1:PORT for moto's own state dump (GET /moto-api/data.json) until
# it answers HTTP 200 with a JSON object, giving up after $ready_timeout
# seconds or when process PID dies. An open port alone does not prove it: the
# server binds before its routes are loaded.
moto_ready() { # port pid
  python3 - "$@" "$ready_timeout" <<'PY'
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

launch() { # port
  exec "$venv/bin/moto_server" -H 127.0.0.1 -p "$1"
}

start() {
  install
  service_start launch moto_ready
  echo "http://127.0.0.1:$service_port"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) service_stop ;;
  endpoint) service_endpoint ;;
  *)
    echo "usage: $0 install|start|stop|endpoint" >&2
    exit 2
    ;;
esac
