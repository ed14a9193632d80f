"""Online inference: a protocol-agnostic service (models, readiness, micro-batching) behind HTTP adapters."""

from __future__ import annotations
