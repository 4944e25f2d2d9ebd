#!/usr/bin/env bash
# Runs every test/**/*.test.ts with the Node test runner (one file at a time:
# the tests share the SoftHSM token, the tpm2-pkcs11 simulator and var/). Run
# scripts/bootstrap.sh --for-tests first (`npm test` does both).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SOFTHSM2_CONF="$PWD/var/softhsm2.conf"
export SOFTHSM2_CONF
[ -f "$SOFTHSM2_CONF" ] || { echo "run-tests: $SOFTHSM2_CONF missing; run: bash scripts/bootstrap.sh --for-tests" >&2; exit 1; }

# The second PKCS#11 implementation of the HSM suite (test/hsm): tpm2-pkcs11 over the swtpm
# simulator, started for the run under var/tpm2 and stopped at the end, whatever happens.
stop_simulator() {
  bash scripts/tpm2-simulator.sh stop >/dev/null 2>&1 || true
  # Simulators of single tests (var/tpm2-fresh/*) a killed test process could not stop.
  for dir in var/tpm2-fresh/*/; do
    [ -d "$dir" ] || continue
    bash scripts/tpm2-simulator.sh stop --dir "$PWD/${dir%/}" >/dev/null 2>&1 || true
    rm -rf "$dir"
  done
}
trap stop_simulator EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tpm2_env="$(bash scripts/tpm2-simulator.sh start)" || { echo "run-tests: the tpm2-pkcs11 simulator did not start; run: bash scripts/bootstrap.sh --for-tests" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
. "$tpm2_env"
set +a

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
