"""PyTorch networks as TorchScript (torch.jit.script or torch.jit.trace), run on the CPU.

A scripted or traced module is saved as is. A plain ``torch.nn.Module`` given to ``pack`` is
switched to eval mode and traced with a float32 example built from the sample's first rows after
preprocessing; pack then checks the traced module against the original on a larger batch and
refuses it if they differ (script modules with data-dependent control flow first). Model files
are TorchScript archives (.pt/.pth written by torch.jit.save); torch.save pickles are refused,
since loading them runs arbitrary code.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modelport.artifact.flavors.base import RawOutputs, as_float32, require, type_module
from modelport.errors import FlavorError

MODEL_FILE = "model.pt"
#: rows the trace is recorded on; the check then runs a larger batch, so batch size is not baked in
TRACE_ROWS = 4


def is_torchscript_archive(path: Path) -> bool:
    """A zip with TorchScript's layout (``<name>/code/`` and ``<name>/constants.pkl``)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return (any(n.split("/")[1:2] == ["code"] for n in names)
            and any(n.endswith("/constants.pkl") for n in names))


def as_numpy(outputs: Any) -> np.ndarray:
    """The first tensor a network returned, as a numpy array."""
    if isinstance(outputs, list | tuple):
        outputs = outputs[0]
    return np.asarray(outputs.detach().cpu().numpy())


def _device_of(model: Any) -> Any:
    """Where the module's weights live (the CPU for a module without any)."""
    torch = _torch()
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _torch() -> Any:
    return require("torch", "torch")


class TorchFlavor:
    name = "torch"
    frameworks: tuple[str, ...] = ("torch",)
    tolerance = 1e-5
    suffixes: tuple[str, ...] = (".pt", ".pth")

    def handles(self, model: object) -> bool:
        torch = sys.modules.get("torch")  # a torch module exists only once torch was imported
        # Keras layers on the torch backend are nn.Modules too; they belong to the keras flavor.
        return (torch is not None and isinstance(model, torch.nn.Module)
                and type_module(model) != "keras")

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes and is_torchscript_archive(path)

    def read(self, path: Path, *, trust_pickle: bool) -> object:
        if not is_torchscript_archive(path):
            raise FlavorError(f"{path.name} is not a TorchScript archive; save the model with "
                              "torch.jit.save(torch.jit.script(model), path) (torch.save pickles "
                              "run code when loaded and are not accepted)")
        return self._load_file(path)

    def prepare(self, model: object, example: Any) -> object:
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise FlavorError(f"the torch flavor takes a torch.nn.Module, not a "
                              f"{type(model).__name__}")
        model.eval()
        if isinstance(model, torch.jit.ScriptModule):
            return model
        inputs = torch.from_numpy(as_float32(example))
        try:
            traced = torch.jit.trace(model, inputs[:TRACE_ROWS])
        except (RuntimeError, TypeError, ValueError) as exc:
            raise FlavorError(f"torch.jit.trace failed ({exc}); script the model with "
                              "torch.jit.script and pack that") from exc
        with torch.inference_mode():
            want, got = as_numpy(model(inputs)), as_numpy(traced(inputs))
        if want.shape != got.shape or not np.allclose(got, want, rtol=1e-5, atol=self.tolerance):
            raise FlavorError("the traced model does not reproduce the module on the sample "
                              "(data-dependent control flow?); script it with torch.jit.script "
                              "and pack that")
        return traced

    def save(self, model: object, directory: Path, source: Path | None) -> dict[str, Any]:
        target = directory / MODEL_FILE
        if source is not None:
            shutil.copyfile(source, target)
            return {"file": MODEL_FILE}
        torch = _torch()
        if not isinstance(model, torch.jit.ScriptModule):
            raise FlavorError("only TorchScript modules can be saved; pack() traces a plain "
                              "nn.Module for you, or pass torch.jit.script(model)")
        torch.jit.save(model, str(target))
        return {"file": MODEL_FILE}

    def load(self, directory: Path, meta: Mapping[str, Any], *, trust_pickle: bool) -> object:
        return self._load_file(directory / str(meta["file"]))

    def run(self, model: Any, features: Any, meta: Mapping[str, Any], *, proba: bool) -> RawOutputs:
        torch = _torch()
        inputs = torch.from_numpy(as_float32(features))
        device = _device_of(model)
        if device.type != "cpu":
            inputs = inputs.to(device, non_blocking=True)
        with torch.inference_mode():
            outputs = model(inputs)
        return RawOutputs(as_numpy(outputs))

    def place(self, model: Any, device: str) -> tuple[object, str]:
        torch = _torch()
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
            if not torch.cuda.is_available() or index >= torch.cuda.device_count():
                raise FlavorError(f"device {device!r} asked for, but torch sees "
                                  f"{torch.cuda.device_count()} CUDA device(s) here")
        elif device != "cpu":
            raise FlavorError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto")
        return model.to(device), device

    def classes(self, model: object) -> list[Any] | None:
        return None

    def modules(self, model: object) -> set[str]:
        return {"torch"}

    def _load_file(self, path: Path) -> object:
        torch = _torch()
        try:
            model = torch.jit.load(str(path), map_location="cpu")
        except (RuntimeError, ValueError) as exc:
            raise FlavorError(f"torch.jit.load cannot read {path.name}: {exc}") from exc
        return model.eval()
