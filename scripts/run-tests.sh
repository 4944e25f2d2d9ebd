#!/usr/bin/env bash
# Runs every test/**/*.test.ts with the Node test runner (one file at a time:
# the tests share the SoftHSM token, the tpm2-pkcs11 simulator, the PostgreSQL
# test cluster and var/). Run scripts/bootstrap.sh --for-tests first (`npm test`
# does both).
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
# The PostgreSQL store tests: a throw-away cluster under var/postgres, reachable only through its
# private socket (scripts/postgres-cluster.sh), stopped at the end whatever happens. Clusters of
# single tests (var/postgres-fresh/*) a killed test process could not stop go too.
stop_postgres() {
  bash scripts/postgres-cluster.sh stop >/dev/null 2>&1 || true
  for dir in var/postgres-fresh/*/; do
    [ -d "$dir" ] || continue
    bash scripts/postgres-cluster.sh stop --dir "$PWD/${dir%/}" >/dev/null 2>&1 || true
    rm -rf "$dir"
  done
}
stop_fixtures() {
  stop_postgres
  stop_simulator
}
trap stop_fixtures EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tpm2_env="$(bash scripts/tpm2-simulator.sh start)" || { echo "run-tests: the tpm2-pkcs11 simulator did not start; run: bash scripts/bootstrap.sh --for-tests" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
. "$tpm2_env"
set +a
pg_env="$(bash scripts/postgres-cluster.sh start)" || { echo "run-tests: the PostgreSQL test cluster did not start; run: bash scripts/bootstrap.sh --for-tests" >&2; exit 1; }
set -a
# GATEWAY_TEST_DATABASE_URL and friends (test/support/postgres.ts makes a database per test file).
# shellcheck disable=SC1090
. "$pg_env"
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

# Each pass's TAP output is also kept under var/test-results/, and the failures of both passes are
# repeated at the very end: a CI log that keeps only its tail still names every failed test.
results_dir="var/test-results"
rm -rf "$results_dir"
mkdir -p "$results_dir"
chmod 0700 "$results_dir"
run_pass() { # run_pass NAME FILE... : one node --test run, its output shown and kept, its status returned
  local name="$1"
  shift
  local rc=0
  # pipefail (above): the pipeline fails with node's status when a test failed.
  node --import tsx --test --test-reporter=tap --test-concurrency=1 "$@" | tee "$results_dir/$name.tap" || rc=$?
  return "$rc"
}
# Every "not ok" line of a pass with the first lines of its diagnostic block (error, location).
summarise_failures() {
  local any=0
  for tap in "$results_dir"/*.tap; do
    [ -f "$tap" ] || continue
    if grep -q '^ *not ok' "$tap"; then
      any=1
      echo "run-tests: FAILED in the $(basename "$tap" .tap) pass:"
      awk '/^ *not ok/ { show = 48; print; next }
           show > 0 && /^ *\.\.\.$/ { show = 0; next }
           show > 0 && !/^ *(---|duration_ms:)/ { print; show -= 1 }' "$tap"
    fi
  done
  [ "$any" -eq 1 ] || echo "run-tests: no test failed"
}

status=0
run_pass sqlite "${files[@]}" || status=$?

# Issue 14: the integration suite runs a second time with every gateway on PostgreSQL (each test
# file's gateways get fresh databases of their own on the cluster above; test/support/backend.ts).
# Tests about the SQLite file itself are skipped there, each with its reason.
pg_files=()
for f in "${files[@]}"; do
  case "$f" in test/integration/*) pg_files+=("$f") ;; esac
done
if [ "${#pg_files[@]}" -gt 0 ]; then
  echo "run-tests: test/integration again on PostgreSQL (GATEWAY_TEST_BACKEND=postgres)"
  GATEWAY_TEST_BACKEND=postgres run_pass postgres "${pg_files[@]}" || status=$?
fi
summarise_failures
exit "$status"
