"""Which allocator Arrow's memory comes from in the processes modelport starts.

Arrow reads the name from ``ARROW_DEFAULT_MEMORY_POOL`` once, when pyarrow is imported (pandas
imports it). Its default in the Linux wheels, mimalloc, hands freed memory back to the kernel soon
and takes it again in fresh huge pages (THP ``madvise``), zeroed at each fault. A process that
builds and frees large Arrow buffers over and over pays that every time:

- a batch-scoring worker: a fifth of all CPU time of a 1,000,000-row run went to the kernel's
  ``clear_page`` (system time 4.8-5.3 → 2.0-2.3 s with jemalloc);
- a server writing its prediction log: each flush's buffers, 2.3 against 1.3 µs of the writer's
  CPU per logged request (forest, 64 callers, ``bench/log_cost_in_process.py``).

jemalloc keeps freed memory for reuse. The variable, not ``pa.set_memory_pool``: the Parquet
reader's C++ does not consult the latter (measured). A user's own choice always wins.
"""

from __future__ import annotations

import os
import sys

VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"

#: the environment a process modelport starts gets (empty where pyarrow ships no jemalloc)
ENVIRONMENT = {VARIABLE: "jemalloc"} if sys.platform.startswith("linux") else {}


def prefer_for_this_process() -> bool:
    """Choose jemalloc for this process, unless the user chose or pyarrow is already loaded (too
    late: Arrow has read the variable). True when the choice took effect."""
    if not ENVIRONMENT or VARIABLE in os.environ or "pyarrow" in sys.modules:
        return False
    os.environ.update(ENVIRONMENT)
    return True
