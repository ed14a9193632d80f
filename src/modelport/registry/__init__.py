"""Model names, numbered versions, aliases and their history, over a content-addressed store.

Nothing is ever deleted: versions are archived (kept, not served), aliases move, the history
only grows, and stored artifacts stay under their digest.
"""
