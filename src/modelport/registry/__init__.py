"""Model names, numbered versions, aliases and their history, over a content-addressed store."""
