#!/usr/bin/env bash
# The deployable stack's checks (template.yaml, issue 6):
#
#   1. cfn-lint template.yaml
#   2. sam validate --lint
#   3. tests/stack (pytest): every function crate's binaries are in the template
#      (CodeUri, rust-cargolambda, Binary, bootstrap, provided.al2023, arm64) and
#      back; no IAM statement has a wildcard action; every function has a log
#      group with a retention
#   4. cargo lambda build --release --arm64 of every crate under functions/,
#      one package at a time, as `sam build` builds them
#   5. sam build, into .tools/sam/build (skipped with --no-sam-build)
#
#   scripts/stack-checks.sh [--no-build] [--no-sam-build]
#
# --no-build stops after 3 (seconds, no compiler). Step 4 builds each package
# on its own because that is what SAM does (`cargo lambda build --release
# --arm64 --bin <Binary>` in the function's directory): cargo unifies the
# features of dependencies over the packages of one build, so building them
# together would compile the shared crates a second time with other features.
# Built this way, in the same target directory ($CARGO_TARGET_DIR), step 5
# finds everything fresh and takes seconds.
#
# Tools, from PyPI, pinned, reinstalled only when the pins change:
# - cfn-lint, aws-sam-cli and pytest in .tools/sam-venv — not in .tools/venv,
#   because aws-sam-cli pins boto3 exactly (1.43.x for 1.170.0) and would
#   replace the boto3/awscli that scripts/api-tests.sh pins there;
# - cargo-lambda and ziglang in .tools/venv, through scripts/cargo-lambda.sh
#   (cargo-lambda cross-compiles with zig, which it finds on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
PYTEST_VERSION=9.2.0

build=true
sam_build=true
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    --no-sam-build) sam_build=false ;;
    *)
      echo "usage: $0 [--no-build] [--no-sam-build]" >&2
      exit 2
      ;;
  esac
done

export SAM_CLI_TELEMETRY=0
region=us-east-1 # validation is offline; any region does

venv=.tools/sam-venv
stamp="$venv/.stack-checks-pins"
pins="cfn-lint==$CFN_LINT_VERSION aws-sam-cli==$SAM_CLI_VERSION pytest==$PYTEST_VERSION"
# shellcheck source=scripts/lib/service.sh
. scripts/lib/service.sh
# shellcheck disable=SC2086 # $pins is a list of words
venv_install "$venv" "$stamp" $pins
[ -x "$venv/bin/sam" ] || { echo "stack-checks: pip installed no sam into $venv/bin" >&2; exit 1; }

timed() { # label command...
  local label="$1" started=$SECONDS
  shift
  echo "== stack-checks: $label"
  "$@"
  echo "== stack-checks: $label: ok in $((SECONDS - started)) s"
}

timed "cfn-lint template.yaml" "$venv/bin/cfn-lint" template.yaml
timed "sam validate --lint" "$venv/bin/sam" validate --lint --template template.yaml --region "$region"
timed "template tests (tests/stack)" env PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m pytest tests/stack -q -ra -p no:cacheprovider

$build || exit 0

# cargo-lambda (and zig) on PATH, for cargo and for sam build.
scripts/cargo-lambda.sh install
PATH="$PWD/.tools/venv/bin:$PATH"
export PATH

# The workspace members under functions/ (a crate not yet in the workspace
# cannot be built, and the template test above has already named it).
mapfile -t packages < <(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
root = os.path.realpath("functions") + os.sep
for p in meta["packages"]:
    if os.path.realpath(p["manifest_path"]).startswith(root):
        print(p["name"])
')
[ "${#packages[@]}" -gt 0 ] || { echo "stack-checks: no function crates in the workspace" >&2; exit 1; }
for p in "${packages[@]}"; do
  timed "cargo lambda build --release --arm64 -p $p" cargo lambda build --release --arm64 --locked -p "$p"
done

if $sam_build; then
  timed "sam build (into .tools/sam/build)" "$venv/bin/sam" build --template template.yaml \
    --build-dir .tools/sam/build --cache-dir .tools/sam/cache --region "$region"
fi
