#!/usr/bin/env bash
# Run the whole test suite in .venv; services the tests need are started (and stopped) here.
#
# PostgreSQL: scripts/postgres.sh starts a throwaway server on 127.0.0.1 (installing Debian's
# postgresql package if needed) and the registry suite runs against it as well as SQLite. If it
# cannot start, the PostgreSQL tests fail under CI=true (they skip only on a developer's machine).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST="${PYTEST:-.venv/bin/pytest}"

trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
if url="$(bash scripts/postgres.sh start)"; then
    export MODELPORT_TEST_POSTGRES_URL="$url"
else
    echo "run-tests.sh: PostgreSQL did not start; its tests will fail under CI=true" >&2
    unset MODELPORT_TEST_POSTGRES_URL
fi
"$PYTEST" -q "$@"
