"""Per-flavor test cases: one module per flavor, each exposing ``CASES``; collected here."""

from __future__ import annotations

import importlib
import pkgutil

from tests.flavor_cases.base import CaseData, FlavorCase


def all_cases() -> list[FlavorCase]:
    found: list[FlavorCase] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(module.CASES)
    return found


__all__ = ["CaseData", "FlavorCase", "all_cases"]
