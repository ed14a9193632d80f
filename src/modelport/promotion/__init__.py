"""Canary and A/B analysis: gates, statistics and promote-or-roll-back decisions from window data."""
