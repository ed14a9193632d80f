#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on 127.0.0.1 for the registry tests (idempotent).
#
#   bash scripts/postgres.sh start   # installs Debian's postgresql if missing; prints the URL
#   bash scripts/postgres.sh stop    # stops the server and removes its data directory
#   bash scripts/postgres.sh url     # prints the URL
#
# initdb and pg_ctl refuse to run as root, so as root they run as the postgres user, with data,
# socket and log directories that user owns. The server listens on 127.0.0.1 only.
set -euo pipefail

PORT="${MODELPORT_TEST_POSTGRES_PORT:-54329}"
BASE="${MODELPORT_TEST_POSTGRES_DIR:-/tmp/modelport-postgres-$PORT}"
DATA="$BASE/data"
SOCKETS="$BASE/sockets"
LOG="$BASE/log/postgres.log"
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

bindir() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$found" && -x "$found/initdb" && -x "$found/pg_ctl" ]]; then
        echo "$found"
    fi
}

install_server() {
    if [[ -z "$(bindir)" ]]; then
        echo "postgres.sh: installing Debian's postgresql package" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
    if [[ -z "$(bindir)" ]]; then
        echo "postgres.sh: no initdb under /usr/lib/postgresql/*/bin after installing" >&2
        exit 1
    fi
}

as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running() {
    [[ -f "$DATA/PG_VERSION" ]] && as_owner "$(bindir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
    install_server
    local bin
    bin="$(bindir)"
    if running; then
        echo "$URL"
        return
    fi
    mkdir -p "$DATA" "$SOCKETS" "$(dirname "$LOG")"
    chmod 700 "$DATA"
    if [[ "$(id -u)" == 0 ]]; then
        chown -R postgres:postgres "$BASE"
    fi
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKETS -c max_connections=200" start >/dev/null; then
        echo "postgres.sh: the server did not start; its log says:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    echo "$URL"
}

stop() {
    if [[ -n "$(bindir)" ]] && running; then
        as_owner "$(bindir)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    rm -rf "$BASE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
