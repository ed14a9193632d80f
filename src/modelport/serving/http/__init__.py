"""The Starlette adapter: routes of the three protocols, health, metrics and OpenAPI over the service."""

from __future__ import annotations
