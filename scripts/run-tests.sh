#!/usr/bin/env bash
# Runs every test/**/*.test.ts with the Node test runner (one file at a time:
# the tests share the SoftHSM token and var/). Run scripts/bootstrap.sh
# --for-tests first (`npm test` does both).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SOFTHSM2_CONF="$PWD/var/softhsm2.conf"
export SOFTHSM2_CONF
[ -f "$SOFTHSM2_CONF" ] || { echo "run-tests: $SOFTHSM2_CONF missing; run: bash scripts/bootstrap.sh --for-tests" >&2; exit 1; }

# Node 20's --test does not expand globs, so list the files ourselves.
files=()
if [ -d test ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find test -name '*.test.ts' -type f | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "run-tests: no test/**/*.test.ts files found" >&2
  exit 1
fi

status=0
node --import tsx --test --test-concurrency=1 "${files[@]}" || status=$?
exit "$status"
