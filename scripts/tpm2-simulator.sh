#!/usr/bin/env bash
# Test fixture: a second PKCS#11 implementation for the HSM conformance suite.
# tpm2-pkcs11 over a software TPM: swtpm (the TPM 2.0 simulator), a private
# D-Bus session bus, the tpm2-abrmd resource manager on it (tpm2-pkcs11 and
# tpm2_ptool open many TPM contexts, from several processes: without a
# resource manager the simulator runs out of object slots), and one
# tpm2-pkcs11 token with generated PINs.
#
#   bash scripts/tpm2-simulator.sh start  [--dir DIR]  # idempotent; prints the env file
#   bash scripts/tpm2-simulator.sh stop   [--dir DIR]  # stops what start started
#   bash scripts/tpm2-simulator.sh stop-tpm [--dir DIR] # only swtpm and tpm2-abrmd (an outage)
#   bash scripts/tpm2-simulator.sh status [--dir DIR]  # exit 0 when it answers
#
# DIR defaults to var/tpm2. It holds state/ (the simulator's NV state),
# store/ (the tpm2-pkcs11 database), user.pin and so.pin (0600), the logs and
# `env`: KEY=VALUE lines for the processes that use the token
# (TPM2_PKCS11_TCTI, TPM2_PKCS11_STORE, DBUS_SESSION_BUS_ADDRESS; TSS2_LOG and
# TPM2_PKCS11_LOG_LEVEL keep their logs to errors) and for the tests
# (TPM2_TEST_MODULE, TPM2_TEST_TOKEN_LABEL, TPM2_TEST_PIN_FILE).
# The token and the simulator state belong together: when only one of them is
# there, both are made anew. Sockets live in DIR/run, or under /tmp when that
# path is too long for a Unix socket. `stop` only signals the processes whose
# pid files this script wrote, after checking their names. Needs the Debian
# packages swtpm libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools tpm2-abrmd
# libtss2-tcti-tabrmd0 dbus (scripts/bootstrap.sh --for-tests installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umask 077

ACTION="${1:-}"
[ "$#" -gt 0 ] && shift
DIR="$ROOT/var/tpm2"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    *) echo "tpm2-simulator: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac

MODULE="/usr/lib/x86_64-linux-gnu/libtpm2_pkcs11.so.1"
for candidate in /usr/lib/*/libtpm2_pkcs11.so.1 /usr/lib/libtpm2_pkcs11.so.1; do
  if [ -e "$candidate" ]; then MODULE="$candidate"; break; fi
done
LABEL="gateway-tpm2"
HASH="$(printf '%s' "$DIR" | sha256sum | cut -c1-12)"
BUS_NAME="com.intel.tss2.Tabrmd.gw$HASH"
RUN="$DIR/run"
# sun_path holds 108 bytes; the longest socket below is RUN/tpm.sock.ctrl.
if [ "${#RUN}" -gt 80 ]; then RUN="/tmp/gw-tpm2-$HASH"; fi
TCTI="tabrmd:bus_name=$BUS_NAME,bus_type=session"
DBUS_ADDRESS="unix:path=$RUN/dbus.sock"

log() { printf 'tpm2-simulator: %s\n' "$*" >&2; }
die() { printf 'tpm2-simulator: ERROR: %s\n' "$*" >&2; exit 1; }

# pid from a file, if that process is alive and has the expected name.
live_pid() {
  local file="$1" name="$2" pid
  [ -s "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = "$name" ] || return 1
  printf '%s' "$pid"
}

stop_one() {
  local file="$1" name="$2" pid i
  if pid="$(live_pid "$file" "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      [ -e "/proc/$pid" ] && [ "$(cat "/proc/$pid/stat" 2>/dev/null | awk '{print $3}')" != "Z" ] || break
      sleep 0.1
    done
    if [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

answers() {
  DBUS_SESSION_BUS_ADDRESS="$DBUS_ADDRESS" TSS2_LOG=all+none tpm2_getrandom -T "$TCTI" 8 >/dev/null 2>&1
}

running() {
  live_pid "$RUN/swtpm.pid" swtpm >/dev/null && live_pid "$RUN/dbus.pid" dbus-daemon >/dev/null \
    && live_pid "$RUN/abrmd.pid" tpm2-abrmd >/dev/null && answers
}

# The TPM side: the simulator and the resource manager. The D-Bus daemon stays: a process that
# used the token keeps its GLib connection to that bus, and only reaches a restarted tpm2-abrmd
# over the same bus.
stop_tpm() {
  stop_one "$RUN/abrmd.pid" tpm2-abrmd
  stop_one "$RUN/swtpm.pid" swtpm
  rm -f "$RUN/tpm.sock" "$RUN/tpm.sock.ctrl"
}

stop_all() {
  stop_tpm
  stop_one "$RUN/dbus.pid" dbus-daemon
  rm -f "$RUN/dbus.sock"
}

random_pin() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

start_all() {
  local cmd
  for cmd in swtpm dbus-daemon tpm2-abrmd tpm2_ptool tpm2_getrandom tpm2_dictionarylockout; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found; run: bash scripts/bootstrap.sh --for-tests"
  done
  [ -e "$MODULE" ] || die "$MODULE not found (Debian package libtpm2-pkcs11-1)"
  ls /usr/lib/*/libtss2-tcti-tabrmd.so.0 >/dev/null 2>&1 || die "libtss2-tcti-tabrmd.so.0 not found (Debian package libtss2-tcti-tabrmd0)"
  mkdir -p "$DIR" "$RUN"
  chmod 700 "$DIR" "$RUN"

  # The NV state of the simulator and the token database describe one TPM.
  local have_state=0 have_store=0 fresh=0
  [ -n "$(ls -A "$DIR/state" 2>/dev/null || true)" ] && have_state=1
  [ -s "$DIR/store/tpm2_pkcs11.sqlite3" ] && [ -s "$DIR/user.pin" ] && have_store=1
  if [ "$have_state" != "$have_store" ]; then
    log "simulator state and token store do not belong together; making both anew"
    rm -rf "$DIR/state" "$DIR/store" "$DIR/user.pin" "$DIR/so.pin"
    have_store=0
  fi
  [ "$have_store" = 1 ] || fresh=1
  mkdir -p "$DIR/state" "$DIR/store"

  swtpm socket --tpm2 \
    --tpmstate "dir=$DIR/state,mode=0600" \
    --server "type=unixio,path=$RUN/tpm.sock,mode=0600" \
    --ctrl "type=unixio,path=$RUN/tpm.sock.ctrl,mode=0600" \
    --flags not-need-init,startup-clear \
    --pid "file=$RUN/swtpm.pid" \
    --log "file=$DIR/swtpm.log" \
    --daemon || die "swtpm did not start (see $DIR/swtpm.log)"

  if ! live_pid "$RUN/dbus.pid" dbus-daemon >/dev/null; then
    rm -f "$RUN/dbus.sock"
    # Debian 12's dbus-daemon wants the file descriptors spelled out.
    local out
    out="$(dbus-daemon --session --address="$DBUS_ADDRESS" --fork --print-address=1 --print-pid=1)" \
      || die "dbus-daemon did not start"
    printf '%s\n' "$out" | sed -n 2p >"$RUN/dbus.pid"
  fi

  local root_flag=()
  [ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)
  DBUS_SESSION_BUS_ADDRESS="$DBUS_ADDRESS" setsid tpm2-abrmd --session "${root_flag[@]}" --flush-all \
    --dbus-name="$BUS_NAME" --tcti="swtpm:path=$RUN/tpm.sock" \
    </dev/null >"$DIR/abrmd.log" 2>&1 &
  echo "$!" >"$RUN/abrmd.pid"

  local i
  for i in $(seq 1 100); do
    answers && break
    live_pid "$RUN/abrmd.pid" tpm2-abrmd >/dev/null || die "tpm2-abrmd stopped (see $DIR/abrmd.log)"
    sleep 0.1
  done
  answers || die "the simulator does not answer through tpm2-abrmd within 10 s (see $DIR/abrmd.log)"

  export DBUS_SESSION_BUS_ADDRESS="$DBUS_ADDRESS" TSS2_LOG=all+none TPM2TOOLS_TCTI="$TCTI" TPM2_PKCS11_TCTI="$TCTI"
  # Wrong-PIN tests count against the TPM's dictionary-attack protection: a
  # test TPM never locks out, and a lockout left by an earlier run is cleared.
  tpm2_dictionarylockout --setup-parameters --max-tries=1000000 --recovery-time=1 --lockout-recovery-time=1 >/dev/null 2>&1 || true
  tpm2_dictionarylockout --clear-lockout >/dev/null 2>&1 || true

  if [ "$fresh" = 1 ]; then
    log "initialising tpm2-pkcs11 token '$LABEL' in $DIR/store"
    local user_pin so_pin pid_line primary
    user_pin="$(random_pin)"
    so_pin="$(random_pin)"
    [ "${#user_pin}" -eq 32 ] && [ "${#so_pin}" -eq 32 ] || die "could not read random bytes for the PINs"
    printf '%s' "$user_pin" >"$DIR/user.pin.tmp"
    printf '%s' "$so_pin" >"$DIR/so.pin.tmp"
    chmod 600 "$DIR/user.pin.tmp" "$DIR/so.pin.tmp"
    pid_line="$(tpm2_ptool init --path="$DIR/store")" || die "tpm2_ptool init failed"
    primary="$(printf '%s\n' "$pid_line" | sed -n 's/^id:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$primary" ] || die "tpm2_ptool init printed no primary id"
    tpm2_ptool addtoken --pid="$primary" --label="$LABEL" --userpin="$user_pin" --sopin="$so_pin" \
      --path="$DIR/store" >/dev/null || die "tpm2_ptool addtoken failed"
    mv -f "$DIR/user.pin.tmp" "$DIR/user.pin"
    mv -f "$DIR/so.pin.tmp" "$DIR/so.pin"
    unset user_pin so_pin
  fi

  local tmp="$DIR/env.tmp"
  {
    echo "TPM2_PKCS11_TCTI=$TCTI"
    echo "TPM2_PKCS11_STORE=$DIR/store"
    echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_ADDRESS"
    echo "TSS2_LOG=all+none"
    echo "TPM2_PKCS11_LOG_LEVEL=0"
    echo "TPM2_TEST_MODULE=$MODULE"
    echo "TPM2_TEST_TOKEN_LABEL=$LABEL"
    echo "TPM2_TEST_PIN_FILE=$DIR/user.pin"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

case "$ACTION" in
  start)
    if running && [ -s "$DIR/env" ]; then
      log "running ($DIR)"
    else
      stop_tpm
      start_all
      log "started ($DIR)"
    fi
    printf '%s\n' "$DIR/env"
    ;;
  stop)
    stop_all
    log "stopped ($DIR)"
    ;;
  stop-tpm)
    stop_tpm
    log "simulator and tpm2-abrmd stopped, D-Bus left running ($DIR)"
    ;;
  status)
    if running; then echo "running"; else echo "stopped"; exit 1; fi
    ;;
  *)
    sed -n '2,24p' "$0" >&2
    exit 2
    ;;
esac
