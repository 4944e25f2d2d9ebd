#!/usr/bin/env bash
# Test fixture: a throw-away PostgreSQL cluster for the PostgreSQL store tests, run by an
# unprivileged user and reachable only through a private Unix socket (no TCP listener).
#
#   bash scripts/postgres-cluster.sh start  [--dir DIR] [--tls-port PORT --tls-dir CERTS]
#                                   # idempotent; prints the env file. With --tls-port it also
#                                   # listens on 127.0.0.1:PORT with TLS (CERTS/server.crt and
#                                   # server.key), for the tests of sslmode=verify-full
#   bash scripts/postgres-cluster.sh stop   [--dir DIR] [--immediate]
#                                   # stops what start started: fast shutdown, or with
#                                   # --immediate as a crash (recovery at the next start;
#                                   # UNLOGGED tables come back empty)
#   bash scripts/postgres-cluster.sh status [--dir DIR]  # exit 0 when it accepts connections
#
# DIR defaults to var/postgres. It holds:
#   cluster/             owned by the server's user, 0700: data/ (initdb), run/ (the socket),
#                        server.log
#   superuser.password   0600, the password of the cluster's superuser gateway_admin
#   port                 the port it was started with (the socket's name; TCP with --tls-port)
#   env                  0600, KEY=VALUE lines for the tests: GATEWAY_TEST_DATABASE_URL (the
#                        superuser on the maintenance database `postgres`, over the socket),
#                        GATEWAY_TEST_POSTGRES_DIR, GATEWAY_TEST_POSTGRES_BIN
#
# Who runs the server: initdb and postgres refuse to run as root. Run as root, this script runs
# them as the `postgres` system user that Debian's postgresql package creates; run as anyone
# else, as that user. var/ is 0700 root and holds the HSM PINs and the gateway's secret key, so
# the postgres user gets exactly one thing: the right to *traverse* (search, --x, not list) the
# directories from var/ down to DIR, through a named-user POSIX ACL entry (setfacl, Debian
# package acl). Every file in var/ stays 0600/0700 root, so the postgres user can open none of
# them, and no other user gains anything. The cluster itself lives in a directory the postgres
# user owns, so nothing under var/ is chowned or chmodded for it. bootstrap.sh's `chmod 700 var`
# masks the entry off again; `start` puts it back (a running server does not need it: it works
# relative to its data directory, and `stop` signals it as root).
#
# The socket lives in DIR/cluster/run, or under /tmp when that path is too long for a Unix
# socket. Authentication is scram-sha-256 even on the socket, so the tests connect the way a
# deployment does, with a password in the URL (which the gateway must never log).
# A fresh start (the server was not running) drops the databases a killed test process left
# behind (gw_test_<pid>_*, whose process is gone). Needs Debian's postgresql (and acl when run
# as root): scripts/bootstrap.sh --for-tests installs them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umask 077

ACTION="${1:-}"
[ "$#" -gt 0 ] && shift
DIR="$ROOT/var/postgres"
IMMEDIATE=0
TLS_PORT=""
TLS_DIR=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --immediate) IMMEDIATE=1; shift ;;
    --tls-port) TLS_PORT="$2"; shift 2 ;;
    --tls-dir) TLS_DIR="$2"; shift 2 ;;
    *) echo "postgres-cluster: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac

log() { printf 'postgres-cluster: %s\n' "$*" >&2; }
die() { printf 'postgres-cluster: ERROR: %s\n' "$*" >&2; exit 1; }

SUPERUSER="gateway_admin"
PORT=5432
if [ -n "$TLS_PORT" ]; then
  [ -n "$TLS_DIR" ] && [ -s "$TLS_DIR/server.crt" ] && [ -s "$TLS_DIR/server.key" ] || die "--tls-port needs --tls-dir with server.crt and server.key"
  case "$TLS_PORT" in *[!0-9]* | '') die "--tls-port must be a port number" ;; esac
  # One port number for the TCP listener and the socket's name.
  PORT="$TLS_PORT"
elif [ -s "$DIR/port" ]; then
  # The port the cluster was last started with (status and stop find its socket by it).
  PORT="$(tr -dc '0-9' <"$DIR/port")"
fi
CLUSTER="$DIR/cluster"
DATA="$CLUSTER/data"
HASH="$(printf '%s' "$DIR" | sha256sum | cut -c1-12)"
SOCK="$CLUSTER/run"
# sun_path holds 108 bytes: SOCK/.s.PGSQL.5432.lock must fit.
if [ "${#SOCK}" -gt 88 ]; then SOCK="/tmp/gw-pg-$HASH"; fi

# The newest PostgreSQL whose server binaries are installed (Debian: /usr/lib/postgresql/N/bin).
BIN=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
  [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/postgres" ] && BIN="$candidate"
done

if [ "$(id -u)" -eq 0 ]; then
  PGUSER_OS="postgres"
  as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
  PGUSER_OS="$(id -un)"
  as_pg() { "$@"; }
fi

# pid of the postmaster of DATA, if it is alive and is a postgres process.
postmaster_pid() {
  local pid
  [ -s "$DATA/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$DATA/postmaster.pid" | tr -dc '0-9')"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  case "$(cat "/proc/$pid/comm")" in postgres | postmaster) ;; *) return 1 ;; esac
  printf '%s' "$pid"
}

answers() {
  [ -n "$BIN" ] && "$BIN/pg_isready" -q -h "$SOCK" -p "$PORT" -d postgres -t 5 >/dev/null 2>&1
}

running() { postmaster_pid >/dev/null && answers; }

# Fast shutdown (SIGINT): open transactions are rolled back, clients disconnected, a clean
# checkpoint written. Signalled directly (root may; pg_ctl would need the ACL that bootstrap.sh's
# chmod may have masked off meanwhile).
stop_server() {
  local pid i
  pid="$(postmaster_pid)" || return 0
  if [ "$IMMEDIATE" = 1 ]; then kill -QUIT "$pid" 2>/dev/null || true; else kill -INT "$pid" 2>/dev/null || true; fi
  for i in $(seq 1 300); do
    [ -e "/proc/$pid" ] || return 0
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ] || return 0
    sleep 0.1
  done
  log "fast shutdown took over 30 s; immediate shutdown"
  kill -QUIT "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    [ -e "/proc/$pid" ] || return 0
    sleep 0.1
  done
  die "the postmaster ($pid) does not stop"
}

# The postgres user may traverse every directory from / down to DIR: granted (search only) on the
# directories this script owns (var/ and below), checked everywhere above.
grant_traversal() {
  [ "$(id -u)" -eq 0 ] || return 0
  local var="$ROOT/var" d path=""
  case "$DIR/" in "$var"/*) ;; *) die "--dir must lie under $var (got $DIR)" ;; esac
  command -v setfacl >/dev/null 2>&1 || die "setfacl not found (Debian package acl); run: bash scripts/bootstrap.sh --for-tests"
  local IFS=/
  for d in ${DIR#/}; do
    path="$path/$d"
    case "$path/" in
      "$var"/*)
        setfacl -m "u:$PGUSER_OS:--x" "$path" 2>/dev/null \
          || die "setfacl on $path failed: the file system does not support POSIX ACLs. Run the tests as an unprivileged user instead"
        ;;
    esac
    as_pg test -x "$path" || die "the $PGUSER_OS user cannot traverse $path; give it search permission (chmod o+x or setfacl -m u:$PGUSER_OS:x)"
  done
}

urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9/._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

psql_admin() {
  PGPASSWORD="$(cat "$DIR/superuser.password")" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" \
    -U "$SUPERUSER" -d postgres "$@"
}

create_cluster() {
  log "creating a cluster in $CLUSTER ($("$BIN/postgres" --version))"
  rm -rf "$CLUSTER" "$DIR/superuser.password" "$DIR/env"
  mkdir -p "$CLUSTER"
  chown "$PGUSER_OS:" "$CLUSTER" 2>/dev/null || [ "$(id -u)" -ne 0 ] || die "chown $CLUSTER failed"
  chmod 700 "$CLUSTER"
  local password
  password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  [ "${#password}" -eq 32 ] || die "could not read random bytes for the password"
  printf '%s' "$password" >"$DIR/superuser.password"
  chmod 600 "$DIR/superuser.password"
  # initdb reads the password from a file the server's user can open: one in its own directory,
  # removed straight after.
  as_pg sh -c 'umask 077; cat >"$1"' sh "$CLUSTER/.pwfile" <"$DIR/superuser.password"
  if ! as_pg "$BIN/initdb" -D "$DATA" -U "$SUPERUSER" --pwfile="$CLUSTER/.pwfile" -E UTF8 --locale=C \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1; then
    rm -f "$CLUSTER/.pwfile"
    die "initdb failed (see $DIR/initdb.log)"
  fi
  rm -f "$CLUSTER/.pwfile"
  unset password
}

start_server() {
  mkdir -p "$SOCK" 2>/dev/null || true
  chown "$PGUSER_OS:" "$SOCK" 2>/dev/null || [ "$(id -u)" -ne 0 ] || die "chown $SOCK failed"
  chmod 700 "$SOCK"
  # Settings on the command line, so that a change here needs no new cluster. No TCP listener;
  # the socket only for its owner (root reaches it anyway). Enough connections for the
  # 100-clients tests and several gateway instances at once.
  local opts="-c unix_socket_directories='$SOCK' -c unix_socket_permissions=0700"
  if [ -n "$TLS_PORT" ]; then
    # Loopback only, TLS on; the key is copied where only the server's user can read it.
    mkdir -p "$CLUSTER/tls"
    cp "$TLS_DIR/server.crt" "$TLS_DIR/server.key" "$CLUSTER/tls/"
    chown -R "$PGUSER_OS:" "$CLUSTER/tls" 2>/dev/null || [ "$(id -u)" -ne 0 ] || die "chown $CLUSTER/tls failed"
    chmod 700 "$CLUSTER/tls"
    chmod 600 "$CLUSTER/tls/server.key" "$CLUSTER/tls/server.crt"
    opts+=" -c listen_addresses='127.0.0.1' -c ssl=on -c ssl_cert_file='$CLUSTER/tls/server.crt' -c ssl_key_file='$CLUSTER/tls/server.key'"
  else
    opts+=" -c listen_addresses=''"
  fi
  opts+=" -c port=$PORT -c max_connections=300 -c shared_buffers=64MB -c log_min_messages=warning"
  opts+=" -c log_connections=off -c log_disconnections=off -c log_line_prefix='%m [%p] '"
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$CLUSTER/server.log" -w -t 120 -o "$opts" start >/dev/null; then
    die "the server did not start (see $CLUSTER/server.log)"
  fi
  answers || die "the server started but does not answer on $SOCK"
}

write_env() {
  local password url tmp="$DIR/env.tmp"
  password="$(cat "$DIR/superuser.password")"
  # libpq's form for a Unix socket: the directory in the host parameter.
  url="postgres://$SUPERUSER:$password@localhost:$PORT/postgres?host=$(urlencode "$SOCK")"
  {
    echo "GATEWAY_TEST_DATABASE_URL=$url"
    echo "GATEWAY_TEST_POSTGRES_DIR=$DIR"
    echo "GATEWAY_TEST_POSTGRES_BIN=$BIN"
  } >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$DIR/env"
}

# Databases of test processes that died before dropping them: test/support/postgres.ts names
# each gw_test_<pid>_<random>; those whose process is gone are dropped.
drop_leftovers() {
  local name pid
  for name in $(psql_admin -At -c "SELECT datname FROM pg_database WHERE datname ~ '^gw_test_[0-9]+_'"); do
    pid="$(printf '%s' "$name" | cut -d_ -f3)"
    [ -e "/proc/$pid" ] && continue
    psql_admin -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" || log "could not drop $name"
  done
}

case "$ACTION" in
  start)
    [ -n "$BIN" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; run: bash scripts/bootstrap.sh --for-tests"
    id -u "$PGUSER_OS" >/dev/null 2>&1 || die "no $PGUSER_OS user (Debian's postgresql package creates it)"
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    grant_traversal
    if running && [ -s "$DIR/env" ]; then
      log "running ($DIR)"
    else
      stop_server
      major="$(basename "$(dirname "$BIN")")"
      if [ ! -s "$DATA/PG_VERSION" ] || [ "$(cat "$DATA/PG_VERSION")" != "$major" ] || [ ! -s "$DIR/superuser.password" ]; then
        create_cluster
      fi
      rm -f "$DATA/postmaster.pid"
      printf '%s\n' "$PORT" >"$DIR/port"
      start_server
      drop_leftovers
      write_env
      log "started ($DIR, socket $SOCK)"
    fi
    printf '%s\n' "$DIR/env"
    ;;
  stop)
    stop_server
    [ "$SOCK" = "$CLUSTER/run" ] || rm -rf "$SOCK"
    log "stopped ($DIR)"
    ;;
  status)
    if running; then echo "running"; else echo "stopped"; exit 1; fi
    ;;
  *)
    sed -n '2,40p' "$0" >&2
    exit 2
    ;;
esac
