"""The torch flavor: plain modules are traced and checked, pickles refused, logits get softmax."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import modelport
from modelport.artifact.flavors import flavor_for_file
from modelport.artifact.flavors.torch import TorchFlavor, is_torchscript_archive
from modelport.errors import FlavorError
from tests.data import numeric_classification, numeric_regression


class BatchSizeBakedIn(torch.nn.Module):  # type: ignore[misc]
    """Multiplies by the batch size: tracing records the example's size as a constant."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, x: Any) -> Any:
        return self.linear(x) * float(len(x))


def _net() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3))


def test_plain_module_is_packed_as_torchscript_with_logits(tmp_path: Path) -> None:
    x, _ = numeric_classification(50, classes=3)
    artifact = modelport.pack(_net(), name="n", sample=x, task="classification", out=tmp_path / "a")
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    assert manifest["flavor"] == "torch"
    assert manifest["flavor_meta"]["scores"] == "logits"
    assert manifest["labels"] == [0, 1, 2]
    assert is_torchscript_archive(artifact.path / "model" / "model.pt")
    assert isinstance(artifact.load().model, torch.jit.ScriptModule)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_trace_that_does_not_reproduce_the_module_is_refused(tmp_path: Path) -> None:
    x, _ = numeric_regression(50)
    with pytest.raises(FlavorError, match="traced model does not reproduce"):
        modelport.pack(BatchSizeBakedIn(), name="n", sample=x, out=tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_torch_save_pickle_is_neither_detected_nor_read(tmp_path: Path) -> None:
    path = tmp_path / "pickled.pt"
    torch.save(_net().state_dict(), path)
    assert not TorchFlavor().detect(path)
    with pytest.raises(FlavorError, match="cannot tell the flavor"):
        flavor_for_file(path)
    with pytest.raises(FlavorError, match="not a TorchScript archive"):
        TorchFlavor().read(path, trust_pickle=True)
