"""User code as a model: a top-level class with ``predict`` in one packed, digest-verified .py file.

The class is instantiated with no arguments at load. Its state comes from its code, plus any files
it names in a ``data_files`` class attribute (paths relative to its .py file, packed beside it):
when the class defines ``load_context(self, directory)``, that method is called with the folder
holding those files (the artifact's model folder at load, the .py file's folder when packing a
file). The file is executed only at load, after every digest matched, under a module name of its
own, so top-level code should sit under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from modelport.artifact.files import check_relative
from modelport.artifact.flavors.base import RawOutputs, call_estimator, estimator_classes
from modelport.artifact.lock import imports_of
from modelport.artifact.pycode import import_file
from modelport.errors import ArtifactFormatError, FlavorError

#: module-level name a model file may set to pick its model class
CLASS_VARIABLE = "MODEL_CLASS"
#: class attribute listing the data files the class reads in ``load_context``
DATA_ATTRIBUTE = "data_files"


def source_of(cls: type) -> Path:
    """The .py file defining ``cls`` at its top level, or a FlavorError saying why not."""
    if cls.__qualname__ != cls.__name__:
        raise FlavorError(f"pyfunc class {cls.__qualname__} is defined inside a function or "
                          "another class; define it at the top level of a .py file")
    try:
        source = inspect.getsourcefile(cls)
        inspect.getsource(cls)  # the file really defines it (not a class made by type() or exec)
    except (TypeError, OSError):
        source = None
    if source is None or not Path(source).is_file() or Path(source).suffix != ".py":
        raise FlavorError(f"pyfunc class {cls.__name__} has no .py source file (was it defined in "
                          "a notebook or an interactive session?); move it to a .py file and "
                          "import it from there")
    return Path(source)


def model_class(module: ModuleType, path: Path) -> type:
    """The class a model file offers: ``MODEL_CLASS``, or its one class with ``predict``."""
    chosen = getattr(module, CLASS_VARIABLE, None)
    if chosen is not None:
        cls = getattr(module, chosen, None) if isinstance(chosen, str) else chosen
        if not (isinstance(cls, type) and cls.__module__ == module.__name__
                and callable(getattr(cls, "predict", None))):
            raise FlavorError(f"{CLASS_VARIABLE} in {path.name} must name a class defined in that "
                              "file with a predict method")
        return cls
    found = [value for value in vars(module).values()
             if isinstance(value, type) and value.__module__ == module.__name__
             and callable(getattr(value, "predict", None))]
    if len(found) != 1:
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        raise FlavorError(f"{path.name} must define exactly one class with a predict method, or "
                          f"set {CLASS_VARIABLE} = TheClass; found {names}")
    return found[0]


def instantiate(cls: type, directory: Path) -> object:
    """``cls()``, then ``load_context(directory)`` when the class defines it."""
    try:
        model = cls()
    except TypeError as exc:
        raise FlavorError(f"pyfunc class {cls.__name__} must be constructible with no arguments "
                          f"({exc}); read state in load_context(directory) instead") from exc
    load_context = getattr(model, "load_context", None)
    if callable(load_context):
        load_context(directory)
    return model


def data_files(cls: type, folder: Path, code_name: str) -> list[str]:
    """The relative paths ``cls`` declares in ``data_files``, each checked to exist in ``folder``."""
    declared = getattr(cls, DATA_ATTRIBUTE, ())
    if isinstance(declared, str) or not all(isinstance(name, str) for name in declared):
        raise FlavorError(f"{cls.__name__}.{DATA_ATTRIBUTE} must be a tuple of relative paths")
    names: list[str] = []
    for name in declared:
        try:
            check_relative(name)
        except ArtifactFormatError as exc:
            raise FlavorError(f"{cls.__name__}.{DATA_ATTRIBUTE}: {exc}") from exc
        if name == code_name:
            raise FlavorError(f"{cls.__name__}.{DATA_ATTRIBUTE} names the model code itself")
        if not (folder / name).exists():
            raise FlavorError(f"{cls.__name__}.{DATA_ATTRIBUTE} names {name}, which is not in "
                              f"{folder}")
        names.append(name)
    return names


def check_self_contained(path: Path) -> None:
    """Refuse code that imports modules from its own folder: only the one file is packed."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if any(isinstance(node, ast.ImportFrom) and node.level > 0 for node in ast.walk(tree)):
        raise FlavorError(f"{path.name} uses a relative import; a pyfunc model is one "
                          "self-contained file")
    local = sorted(name for name in imports_of(path)
                   if (path.parent / f"{name}.py").is_file()
                   or (path.parent / name / "__init__.py").is_file())
    if local:
        raise FlavorError(f"{path.name} imports {', '.join(local)} from its own folder; a pyfunc "
                          "model is one self-contained file (move that code into it, or install "
                          "it as a package)")


def _module_name(prefix: str, path: Path) -> str:
    """A module name unique to this file's content and place, so artifacts never share one."""
    key = hashlib.sha256(path.read_bytes() + str(path.resolve()).encode()).hexdigest()
    return f"modelport_{prefix}_pyfunc_{key[:16]}"


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


class PyfuncFlavor:
    name = "pyfunc"
    frameworks: tuple[str, ...] = ()
    tolerance = 1e-7
    suffixes: tuple[str, ...] = (".py",)

    def handles(self, model: object) -> bool:
        if isinstance(model, type | ModuleType) or inspect.isroutine(model):
            return False
        return callable(getattr(model, "predict", None))

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        check_self_contained(path)
        module = import_file(path, _module_name("live", path))
        return instantiate(model_class(module, path), path.parent)

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        cls = type(model)
        path = source_of(cls)
        check_self_contained(path)
        files = data_files(cls, path.parent, path.name)
        shutil.copyfile(path, directory / path.name)
        for name in files:
            _copy(path.parent / name, directory / name)
        return {"file": path.name, "class": cls.__name__, "data_files": files}

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        path = directory / str(meta["file"])
        module = import_file(path, _module_name("packed", path))
        cls = getattr(module, str(meta["class"]), None)
        if not isinstance(cls, type):
            raise ArtifactFormatError(f"{path.name} defines no class {meta['class']!r}")
        return instantiate(cls, directory)

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        return call_estimator(model, features, meta, proba=proba)

    def classes(self, model: object) -> list[Any] | None:
        return estimator_classes(model)

    def modules(self, model: object) -> set[str]:
        return imports_of(source_of(type(model)))
