"""The composition root: one module per command group, wired in ``main``."""
