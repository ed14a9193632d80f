"""Execute a packed Python file as a fresh module, once its digest has been verified."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from modelport.errors import ArtifactFormatError


def import_file(path: Path, module_name: str) -> Any:
    """Run ``path`` as module ``module_name`` (registered in ``sys.modules``) and return it."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ArtifactFormatError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(module_name, None)
        raise
    return module
