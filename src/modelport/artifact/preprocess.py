"""Packed preprocessing: a fitted sklearn transformer (skops) or a function in a packed Python file."""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelport.artifact.flavors.sklearn import dump_skops, load_skops, untrusted_types
from modelport.artifact.lock import imports_of
from modelport.artifact.pycode import import_file
from modelport.errors import ArtifactFormatError, FlavorError

FOLDER = "preprocess"
TRANSFORMER_FILE = "transformer.skops"
CODE_FILE = "preprocess.py"
DEFAULT_FUNCTION = "preprocess"


@dataclass(frozen=True)
class Preprocessor:
    """A loaded preprocessing step: ``apply(frame)`` returns what the model takes."""

    kind: str
    step: Callable[[Any], Any]
    modules: frozenset[str] = frozenset()

    def apply(self, frame: Any) -> Any:
        return self.step(frame)


def _function_from(path: Path, function: str, module_name: str) -> Callable[[Any], Any]:
    module = import_file(path, module_name)
    step = getattr(module, function, None)
    if not callable(step):
        raise FlavorError(f"{path.name} defines no function {function!r}")
    return step  # type: ignore[no-any-return]


def resolve(preprocess: Any) -> tuple[str, Any, Path | None, str]:
    """Classify a user's preprocessing argument: (kind, object, source file, function name)."""
    if isinstance(preprocess, str | Path):
        path = Path(preprocess)
        if path.suffix != ".py" or not path.is_file():
            raise FlavorError(f"preprocess file {path} must be an existing .py file")
        return "python", None, path, DEFAULT_FUNCTION
    if hasattr(preprocess, "transform"):
        return "sklearn", preprocess, None, ""
    if inspect.isfunction(preprocess):
        source = inspect.getsourcefile(preprocess)
        if source is None or preprocess.__qualname__ != preprocess.__name__:
            raise FlavorError("a preprocessing function must be defined at the top level of a .py file")
        return "python", None, Path(source), preprocess.__name__
    raise FlavorError(f"unsupported preprocess {type(preprocess).__name__}: give a fitted sklearn "
                      "transformer, a top-level function, or a path to a .py file")


def save(preprocess: Any, root: Path) -> dict[str, Any]:
    """Write the preprocessing step under ``root/preprocess``; return its manifest entry."""
    kind, obj, source, function = resolve(preprocess)
    folder = root / FOLDER
    folder.mkdir()
    if kind == "sklearn":
        target = folder / TRANSFORMER_FILE
        dump_skops(obj, target)
        return {"kind": kind, "file": f"{FOLDER}/{TRANSFORMER_FILE}",
                "trusted_types": untrusted_types(target)}
    assert source is not None
    shutil.copyfile(source, folder / CODE_FILE)
    return {"kind": kind, "file": f"{FOLDER}/{CODE_FILE}", "function": function}


def load(root: Path, entry: Mapping[str, Any], digest: str) -> Preprocessor:
    path = root / str(entry["file"])
    if entry["kind"] == "sklearn":
        transformer: Any = load_skops(path, list(entry.get("trusted_types", [])))
        return Preprocessor("sklearn", transformer.transform)
    if entry["kind"] == "python":
        step = _function_from(path, str(entry.get("function", DEFAULT_FUNCTION)),
                              f"modelport_packed_preprocess_{digest[:16]}")
        return Preprocessor("python", step)
    raise ArtifactFormatError(f"unknown preprocess kind {entry['kind']!r}")


def live(preprocess: Any) -> Preprocessor:
    """The user's preprocessing as given at pack time, before it is written."""
    kind, obj, source, function = resolve(preprocess)
    if kind == "sklearn":
        return Preprocessor(kind, obj.transform, frozenset({type(obj).__module__.split(".")[0]}))
    assert source is not None
    if inspect.isfunction(preprocess):
        step: Callable[[Any], Any] = preprocess
    else:
        step = _function_from(source, function, f"modelport_live_preprocess_{source.stem}")
    return Preprocessor(kind, step, frozenset(imports_of(source)))
