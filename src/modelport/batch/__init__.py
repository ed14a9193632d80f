"""Offline scoring of large files, streamed in chunks through the one validate → predict path."""
