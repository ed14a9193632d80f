"""The composition root: one module per command group, wired in ``main``.

The command line's process allocates Arrow's memory through jemalloc unless the user chose
otherwise (``modelport.core.allocator``): chosen here, before any command module loads pyarrow.
"""

from modelport.core.allocator import prefer_for_this_process

prefer_for_this_process()
