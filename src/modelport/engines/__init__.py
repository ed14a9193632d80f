"""Where batch work runs: ``local`` (a pool of worker processes on this machine)."""
