# shellcheck shell=bash
# What every throwaway local service of the tests shares (DynamoDB Local,
# moto, cargo lambda watch): pinned installs into a virtualenv, a pid and a
# port file per instance, starting on a free port until it really answers,
# and stopping whatever a pid file names only if it is still that service.
# Sourced by scripts/dynamodb-local.sh, scripts/moto.sh and
# scripts/cargo-lambda.sh (and the venv helper by scripts/api-tests.sh,
# scripts/e2e-tests.sh and scripts/stack-checks.sh).
#
# The service lifecycle reads these variables of the sourcing script:
#   root             the repository
#   pid_file         where the running instance's pid is kept
#   port_file        where its port is kept
#   log_file         its stdout and stderr
#   process_pattern  a glob its `ps -o args=` matches (a stale pid file may
#                    name a recycled pid)
#   ready_timeout    seconds a start may take to answer
#   kill_group       true when the service leads a process group to end whole
# and calls its `say` (progress, to stderr) and `die`.

# Installs PINS (pip requirement words) into the virtualenv VENV unless the
# stamp file STAMP already lists exactly them; creates VENV when missing.
venv_install() { # venv stamp pins...
  local venv="$1" stamp="$2"
  shift 2
  local pins="$*"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pins" ]; then
    return
  fi
  command -v python3 >/dev/null 2>&1 || { echo "python3 is needed to install $pins" >&2; return 1; }
  mkdir -p "$(dirname "$venv")"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2 || { echo "python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; return 1; }
  fi
  echo "== installing $pins into ${venv#"${root:-$PWD}"/}" >&2
  # Checked by hand, not by `set -e`: callers use `venv_install ... || die`,
  # which turns `set -e` off inside the function.
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q "$@" >&2 || return 1
  echo "$pins" >"$stamp"
}

# Switches to a separate, named instance when NAME is not empty (the value of
# the environment variable VAR, named in the error): its own pid, port and
# log files under $tools/instances/NAME/, and "LABEL (NAME): " before what
# `say` prints. Call it after sourcing this file, before any other function.
service_instance() { # var name label
  local var="$1" name="$2" label="$3"
  [ -n "$name" ] || return 0
  case "$name" in
    *[!A-Za-z0-9_-]*) die "$var may hold only letters, digits, - and _ (got: $name)" ;;
  esac
  instance="$name"
  pid_file="$tools/instances/$name/pid"
  port_file="$tools/instances/$name/port"
  log_file="$tools/instances/$name/run.log"
  eval "say() { echo \"$label ($name): \$*\" >&2; }"
}

# The recorded pid, if that process is alive and is still the service.
service_running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # shellcheck disable=SC2254 # the pattern is meant as a glob
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
    $process_pattern) echo "$pid" ;;
    *) return 1 ;;
  esac
}

# Stops the recorded instance (SIGTERM, then SIGKILL after 5 s); idempotent.
service_stop() {
  local pid target
  if pid=$(service_running_pid); then
    target=$pid
    [ "${kill_group:-false}" = true ] && target="-$pid"
    kill -- "$target" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 -- "$target" 2>/dev/null || true
    say "stopped (pid $pid)"
  fi
  rm -f "$pid_file" "$port_file"
}

# http://127.0.0.1:PORT of the running instance; fails when none runs.
service_endpoint() {
  service_running_pid >/dev/null && [ -s "$port_file" ] || return 1
  echo "http://127.0.0.1:$(cat "$port_file")"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the service on a free port: `LAUNCH PORT` runs in a subshell with
# its own stdin/stdout/stderr (otherwise `$(script start | tail -n 1)` would
# wait for the server to close the pipe, i.e. forever) and must exec the
# server; `READY PORT PID` succeeds once it really answers. The port is
# picked first and bound by the server a moment later, so another process can
# take it in between: three ports are tried. Replaces an instance left
# running by an earlier run. Sets service_port and service_pid.
service_start() { # launch ready
  local launch="$1" ready="$2" attempt started
  if service_running_pid >/dev/null; then
    say "replacing an instance left running by an earlier run"
  fi
  service_stop 2>/dev/null
  mkdir -p "$(dirname "$pid_file")"
  for attempt in 1 2 3; do
    service_port=$(free_port)
    started=$SECONDS
    ("$launch" "$service_port") </dev/null >"$log_file" 2>&1 &
    service_pid=$!
    echo "$service_pid" >"$pid_file"
    echo "$service_port" >"$port_file"
    if "$ready" "$service_port" "$service_pid"; then
      say "answering on port $service_port after $((SECONDS - started)) s (pid $service_pid, log ${log_file#"$root"/})"
      return
    fi
    service_stop 2>/dev/null
    say "attempt $attempt failed; last lines of ${log_file#"$root"/}:"
    tail -n 20 "$log_file" >&2 || true
  done
  die "it did not start"
}
