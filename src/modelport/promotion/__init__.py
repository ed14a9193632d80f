"""Canary and A/B analysis: gates, statistics and decisions to promote or roll back, from plain window data."""
