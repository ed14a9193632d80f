"""How to reach the registry: its database URL, where artifacts live, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegistryConfig:
    """Built by ``modelport.settings`` from the environment; nothing here reads it."""

    #: SQLAlchemy URL: ``sqlite:///...`` (embedded) or ``postgresql://...`` (psycopg 3)
    url: str
    #: where the blob store keeps artifacts (a folder, or a URL a store plugin understands)
    artifacts: str
    #: recorded in the history when a call names nobody
    user: str
    #: seconds to wait for a database lock or connection before giving up
    timeout: float = 30.0

