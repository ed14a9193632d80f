#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the dashboard's browser tests; print its path.
#
#   bash scripts/chromium.sh      # installs the chromium package when /usr/bin/chromium is missing
#
# The tests drive it through Playwright with executable_path=/usr/bin/chromium; Playwright's own
# browser download (`playwright install`) is never used. Installing needs root (apt-get).
set -euo pipefail

BROWSER="${MODELPORT_TEST_CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$BROWSER" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "chromium.sh: $BROWSER is missing and installing it needs root (apt-get install chromium)" >&2
        exit 1
    fi
    echo "chromium.sh: installing Debian's chromium package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
fi
if [[ ! -x "$BROWSER" ]]; then
    echo "chromium.sh: no $BROWSER after installing" >&2
    exit 1
fi
echo "$BROWSER"
