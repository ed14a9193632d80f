#!/usr/bin/env bash
# Build one venv per peer server for bench/serving_peers.py from the exact pins beside this file.
# Usage: bash bench/peers/setup.sh [mlserver] [bentoml] [fastapi]   (default: all three)
# Venvs go under $MODELPORT_BENCH_ENVS (default /work/benchenvs); the base interpreter is $BENCH_PYTHON
# (default: python3.11, the version requirements.lock is made for). An existing venv is rebuilt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
envs="${MODELPORT_BENCH_ENVS:-/work/benchenvs}"
python="${BENCH_PYTHON:-python3.11}"
peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(mlserver bentoml fastapi)
mkdir -p "$envs"
for peer in "${peers[@]}"; do
    pins="$here/requirements-$peer.txt"
    [ -f "$pins" ] || { echo "no pins for '$peer' ($pins)" >&2; exit 2; }
    echo "== $peer -> $envs/$peer"
    rm -rf "${envs:?}/$peer"
    "$python" -m venv "$envs/$peer"
    "$envs/$peer/bin/pip" install --quiet --no-deps -r "$pins"
    "$envs/$peer/bin/pip" check
    "$envs/$peer/bin/python" -c "import sklearn, numpy, pandas, uvloop, httptools; print('$peer: scikit-learn', sklearn.__version__)"
done
command -v wrk >/dev/null || echo "note: wrk is missing; install Debian's package: apt-get install wrk" >&2
