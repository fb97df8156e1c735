#!/usr/bin/env bash
# Keeps CI's cached cargo target directory from filling the disk.
#
#   scripts/ci-cache.sh TARGET_DIR
#
# cargo never deletes an artifact: every changed lock file or source leaves
# its old builds behind, so a cache kept between runs only grows. A full run
# (debug tests, arm64 release builds of the functions) needs about
# NEED_GIB free; when the disk has less, or the cache has grown past
# MAX_GIB, the cache is deleted and this run builds cold (slower, never red
# for want of space). A run that starts with too little disk even then says
# so before it starts building.
set -euo pipefail

MAX_GIB=${SWITCHYARD_CACHE_MAX_GIB:-25}
NEED_GIB=${SWITCHYARD_CACHE_NEED_GIB:-12}

target="${1:?usage: $0 TARGET_DIR}"
mkdir -p "$target"

free_gib() { df -Pk "$target" | awk 'NR == 2 { print int($4 / 1048576) }'; }
used_gib() { du -sk "$target" 2>/dev/null | awk '{ print int($1 / 1048576) }'; }

free=$(free_gib)
used=$(used_gib)
echo "== ci-cache: $target holds ${used} GiB; ${free} GiB free on its disk"
if [ "$used" -gt "$MAX_GIB" ] || { [ "$free" -lt "$NEED_GIB" ] && [ "$used" -gt 0 ]; }; then
  echo "== ci-cache: deleting the cache (over ${MAX_GIB} GiB, or under ${NEED_GIB} GiB free); this run builds cold"
  rm -rf "$target"
  mkdir -p "$target"
  free=$(free_gib)
fi
# Leftovers of incremental builds (CI builds with CARGO_INCREMENTAL=0).
find "$target" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} + 2>/dev/null || true
if [ "$free" -lt "$NEED_GIB" ]; then
  echo "== ci-cache: warning: only ${free} GiB free; a full run needs about ${NEED_GIB} GiB" >&2
fi
