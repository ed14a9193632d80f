"""Monitoring calculators: fit on a reference sample, calculate on a window, return plain results."""
