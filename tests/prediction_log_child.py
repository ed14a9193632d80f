"""A process that logs predictions until it is stopped: the subject of the SIGKILL and SIGTERM tests.

    python -m tests.prediction_log_child ROOT FLUSH_INTERVAL_S PROGRESS_FILE

Row ids count up from 0 (as 32 hex digits), so the rows on disk tell which were lost. Every few
batches the number of rows submitted so far (``submit`` returned for all of them) is written to
PROGRESS_FILE, atomically. On SIGTERM the handler only sets a flag, as a server does; the loop then
closes the log and prints its counters as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from modelport.predictions import PredictionBatch, PredictionLog

ROWS = 3
#: every row on one day, whatever the clock says, so each flush writes exactly one segment
WHEN = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _report(path: Path, submitted: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(str(submitted))
    os.replace(temporary, path)


def main() -> None:
    root, interval, progress = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    log = PredictionLog(root, flush_interval_s=interval)
    matrix = np.arange(ROWS * 2, dtype=float).reshape(ROWS, 2)
    submitted = 0
    while not stopping:
        ids = [f"{i:032x}" for i in range(submitted, submitted + ROWS)]
        log.submit(PredictionBatch("child", "child", "1", matrix, columns=("a", "b"),
                                   predictions=matrix[:, 0], ids=ids, time=WHEN))
        submitted += ROWS
        if submitted % (ROWS * 10) == 0:
            _report(progress, submitted)
        time.sleep(0.001)
    stats = log.close()
    print(json.dumps({"submitted": submitted, **stats.to_dict()}), flush=True)


if __name__ == "__main__":
    main()
