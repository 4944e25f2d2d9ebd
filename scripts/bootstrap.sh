#!/usr/bin/env bash
# Prepares a machine to run (or test) the gateway. Idempotent: a second run
# only checks and returns within a second or two.
#
#   bash scripts/bootstrap.sh              # before `npm start`
#   bash scripts/bootstrap.sh --for-tests  # before `npm test` (also chromium, openssl,
#                                          # PostgreSQL and the tpm2-pkcs11 test stack)
#
# The HSM: only when SoftHSM is the module (GATEWAY_HSM_MODULE unset or SoftHSM's
# library, and no GATEWAY_HSM_TOKENS_FILE) does it install softhsm2, initialise
# the token GATEWAY_HSM_TOKEN_LABEL (default "gateway") and generate its PINs.
# With any other module it installs nothing for it, creates no token and never
# writes a PIN file: it checks, without logging in, that the module loads, the
# token is present and its PIN is set (scripts/hsm-preflight.ts), and stops with
# an error naming the setting otherwise. An existing PIN file is never
# overwritten, whatever the module.
# --for-tests prepares the test tokens whatever GATEWAY_HSM_MODULE says: the
# SoftHSM token in var/ and the Debian packages of the tpm2-pkcs11 test stack
# (scripts/run-tests.sh starts the simulator, scripts/tpm2-simulator.sh) and Debian's
# PostgreSQL server (run-tests.sh starts a throw-away cluster, scripts/postgres-cluster.sh).
# Writes: var/ (0700); with SoftHSM var/softhsm2.conf, var/softhsm/tokens/,
#         var/hsm-user.pin, var/hsm-so.pin (all 0600); client/dist/.
# It never prints a PIN and does not migrate the database (the server does).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Everything this script creates under var/ must be private to the user.
umask 077

FOR_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --for-tests) FOR_TESTS=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

TOKEN_LABEL="${GATEWAY_HSM_TOKEN_LABEL:-gateway}"
SOFTHSM_MODULE="/usr/lib/softhsm/libsofthsm2.so"

# Is SoftHSM the gateway's module? Only then does this script manage an HSM token.
is_softhsm_path() {
  case "$1" in
    "$SOFTHSM_MODULE" | */softhsm/libsofthsm2.so) return 0 ;;
  esac
  [ -e "$1" ] && [ -e "$SOFTHSM_MODULE" ] && [ "$(readlink -f "$1")" = "$(readlink -f "$SOFTHSM_MODULE")" ]
}
MANAGE_SOFTHSM=0
if [ -z "${GATEWAY_HSM_TOKENS_FILE:-}" ] && { [ -z "${GATEWAY_HSM_MODULE:-}" ] || is_softhsm_path "$GATEWAY_HSM_MODULE"; }; then
  MANAGE_SOFTHSM=1
fi
# The tests always run on their own SoftHSM token (and on tpm2-pkcs11).
[ "$FOR_TESTS" = 1 ] && MANAGE_SOFTHSM=1

# ---------------------------------------------------------------- Debian packages
pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
if [ "$MANAGE_SOFTHSM" = 1 ] && { ! pkg_installed softhsm2 || ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e "$SOFTHSM_MODULE" ]; }; then
  missing+=(softhsm2)
fi
if [ "$FOR_TESTS" = 1 ] && ! pkg_installed chromium && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "$FOR_TESTS" = 1 ]; then
  # The second PKCS#11 implementation of the HSM suite: tpm2-pkcs11 over the swtpm simulator,
  # behind tpm2-abrmd on a private D-Bus (libtss2-tcti-tabrmd0 is how tpm2-pkcs11 reaches it).
  for pkg in swtpm swtpm-tools libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 dbus; do
    pkg_installed "$pkg" || missing+=("$pkg")
  done
  # The PostgreSQL store tests run a throw-away cluster (scripts/postgres-cluster.sh): Debian's
  # server packages; as root also acl (the postgres user gets search-only access to var/).
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
  if [ "$(id -u)" -eq 0 ] && ! command -v setfacl >/dev/null 2>&1; then missing+=(acl); fi
  # Several tests make certificates with the openssl command; a bare image may lack it.
  if ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
  # The bench (and its smoke test) names where a load generator that stopped answering waits:
  # a native backtrace of its main thread (scripts/bench/phaseGuard.ts).
  if ! command -v gdb >/dev/null 2>&1; then missing+=(gdb); fi
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    die "missing Debian packages: ${missing[*]}. Run as root:
  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  fi
fi
if [ "$MANAGE_SOFTHSM" = 1 ]; then
  [ -e "$SOFTHSM_MODULE" ] || die "softhsm2 is installed but $SOFTHSM_MODULE is missing"
  log "softhsm2 present"
fi
if [ "$FOR_TESTS" = 1 ]; then log "chromium, openssl, PostgreSQL and the tpm2-pkcs11 test stack present"; fi
if [ "$FOR_TESTS" = 1 ] && [ -n "${GATEWAY_HSM_MODULE:-}${GATEWAY_HSM_TOKENS_FILE:-}" ]; then
  log "note: the tests ignore GATEWAY_HSM_MODULE / GATEWAY_HSM_TOKENS_FILE; they use their own SoftHSM and tpm2-pkcs11 tokens"
fi

# ---------------------------------------------------------------- npm dependencies
native_modules_load() {
  node -e "require('better-sqlite3'); require('pkcs11js')" >/dev/null 2>&1
}

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  (umask 022 && npm ci --no-audit --no-fund)
else
  log "npm dependencies up to date"
fi
if ! native_modules_load; then
  log "native modules do not load; rebuilding better-sqlite3 pkcs11js esbuild"
  (umask 022 && npm rebuild better-sqlite3 pkcs11js esbuild)
  native_modules_load || die "better-sqlite3 / pkcs11js still fail to load after npm rebuild"
fi

# ---------------------------------------------------------------- var/
mkdir -p var
chmod 700 var

# ---------------------------------------------------------------- another HSM
if [ "$MANAGE_SOFTHSM" = 0 ]; then
  # The operator's HSM: nothing is created or written for it; check that the gateway can use it.
  if [ -n "${GATEWAY_HSM_TOKENS_FILE:-}" ]; then
    [ -f "$GATEWAY_HSM_TOKENS_FILE" ] || die "GATEWAY_HSM_TOKENS_FILE: $GATEWAY_HSM_TOKENS_FILE does not exist"
  else
    [ -e "$GATEWAY_HSM_MODULE" ] || die "GATEWAY_HSM_MODULE: the PKCS#11 module $GATEWAY_HSM_MODULE does not exist (install the HSM vendor's client)"
    if [ -z "${GATEWAY_HSM_PIN:-}" ]; then
      pin_file="${GATEWAY_HSM_PIN_FILE:-var/hsm-user.pin}"
      [ -s "$pin_file" ] || die "GATEWAY_HSM_PIN_FILE: no PIN for the HSM token '$TOKEN_LABEL' in $pin_file (write the user PIN there, mode 0600, or set GATEWAY_HSM_PIN_FILE)"
    fi
  fi
  node --import tsx scripts/hsm-preflight.ts || die "the HSM is not ready (see above); nothing was created or changed for it"
  log "HSM module ready (not SoftHSM: no token created, no PIN written)"
fi

# ---------------------------------------------------------------- SoftHSM
# (the development module: everything up to the matching `fi` only runs for it)
if [ "$MANAGE_SOFTHSM" = 1 ]; then
[ -f softhsm.conf ] || die "softhsm.conf missing at the repository root"

SOFTHSM2_CONF="$ROOT/var/softhsm2.conf"
export SOFTHSM2_CONF

# Rewrite a relative directories.tokendir into an absolute one.
tokendir_rel="$(sed -n 's/^[[:space:]]*directories\.tokendir[[:space:]]*=[[:space:]]*//p' softhsm.conf | tail -n 1 | sed 's/[[:space:]]*$//')"
[ -n "$tokendir_rel" ] || die "softhsm.conf has no directories.tokendir"
case "$tokendir_rel" in
  /*) tokendir_abs="$tokendir_rel" ;;
  *)  tokendir_abs="$ROOT/$tokendir_rel" ;;
esac
mkdir -p "$tokendir_abs"
chmod 700 "$tokendir_abs"

tokendir_sed="$(printf '%s' "$tokendir_abs" | sed 's/[&|\\]/\\&/g')"
conf_tmp="$(mktemp "$ROOT/var/.softhsm2.conf.XXXXXX")"
{
  echo "# Generated by scripts/bootstrap.sh from softhsm.conf; do not edit."
  sed "s|^[[:space:]]*directories\.tokendir[[:space:]]*=.*\$|directories.tokendir = $tokendir_sed|" softhsm.conf
} >"$conf_tmp"
if [ -f "$SOFTHSM2_CONF" ] && cmp -s "$conf_tmp" "$SOFTHSM2_CONF"; then
  rm -f "$conf_tmp"
else
  mv -f "$conf_tmp" "$SOFTHSM2_CONF"
  chmod 600 "$SOFTHSM2_CONF"
fi

token_exists() {
  softhsm2-util --show-slots 2>/dev/null | awk -v want="$1" '
    /^[[:space:]]*Label:/ {
      sub(/^[[:space:]]*Label:[[:space:]]?/, "")
      sub(/^[[:space:]]+/, ""); sub(/[[:space:]]+$/, "")
      if ($0 == want) found = 1
    }
    END { exit found ? 0 : 1 }'
}

random_pin() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

if token_exists "$TOKEN_LABEL"; then
  log "SoftHSM token '$TOKEN_LABEL' present"
  if [ -z "${GATEWAY_HSM_PIN:-}" ] && [ -z "${GATEWAY_HSM_PIN_FILE:-}" ] && [ ! -s var/hsm-user.pin ]; then
    log "WARNING: token '$TOKEN_LABEL' exists but var/hsm-user.pin is missing; set GATEWAY_HSM_PIN or GATEWAY_HSM_PIN_FILE"
  fi
else
  if [ -n "${GATEWAY_HSM_PIN:-}${GATEWAY_HSM_PIN_FILE:-}" ] && [ "$FOR_TESTS" = 0 ]; then
    die "GATEWAY_HSM_PIN_FILE / GATEWAY_HSM_PIN: SoftHSM has no token '$TOKEN_LABEL'; the bootstrap only makes one with generated PINs in var/. Unset them, or initialise the token with that PIN yourself (softhsm2-util --init-token)"
  fi
  # A PIN file is never overwritten: it may hold another HSM's PIN, or the PIN of a token
  # whose directory was moved away.
  for pin_path in var/hsm-user.pin var/hsm-so.pin; do
    [ ! -e "$pin_path" ] || die "GATEWAY_HSM_PIN_FILE: $pin_path exists but SoftHSM has no token '$TOKEN_LABEL'; it is not overwritten. Move it away to have a new token made, or point GATEWAY_HSM_TOKEN_LABEL at the token it belongs to"
  done
  log "initialising SoftHSM token '$TOKEN_LABEL'"
  user_pin="$(random_pin)"
  so_pin="$(random_pin)"
  [ "${#user_pin}" -eq 32 ] && [ "${#so_pin}" -eq 32 ] || die "could not read random bytes for the PINs"
  # Write the PINs first (0600 through umask), then initialise the token.
  printf '%s' "$user_pin" >var/hsm-user.pin.tmp
  printf '%s' "$so_pin" >var/hsm-so.pin.tmp
  chmod 600 var/hsm-user.pin.tmp var/hsm-so.pin.tmp
  if ! softhsm2-util --init-token --free --label "$TOKEN_LABEL" --pin "$user_pin" --so-pin "$so_pin" >/dev/null; then
    rm -f var/hsm-user.pin.tmp var/hsm-so.pin.tmp
    die "softhsm2-util --init-token failed"
  fi
  mv -f var/hsm-user.pin.tmp var/hsm-user.pin
  mv -f var/hsm-so.pin.tmp var/hsm-so.pin
  unset user_pin so_pin
  token_exists "$TOKEN_LABEL" || die "token '$TOKEN_LABEL' not visible after initialisation"
  log "SoftHSM token '$TOKEN_LABEL' initialised (PINs in var/hsm-user.pin, var/hsm-so.pin)"
fi
fi

# ---------------------------------------------------------------- client build
if [ -f client/vite.config.ts ]; then
  stamp="client/dist/.bootstrap-build-stamp"
  need_build=0
  # The pages also bundle i18n/ (words and date formats shared with the mails).
  if [ ! -f "$stamp" ]; then
    need_build=1
  elif [ -n "$(find client i18n -path client/dist -prune -o -type f -newer "$stamp" -print -quit)" ]; then
    need_build=1
  fi
  if [ "$need_build" = 1 ]; then
    log "building client (vite)"
    (umask 022 && npx --no-install vite build --config client/vite.config.ts)
    [ -d client/dist ] || die "vite build did not produce client/dist"
    (umask 022 && touch "$stamp")
  else
    log "client build up to date"
  fi
else
  log "client/vite.config.ts not present; skipping client build"
fi

log "done"
