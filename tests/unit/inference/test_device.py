"""Placing a model on a device: CPU-only flavors refuse accelerators; torch runs on CUDA when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import modelport
from modelport.errors import FlavorError
from tests.artifacts import small_classifier
from tests.data import numeric_regression

HAS_CUDA = torch.cuda.is_available()


def _torch_artifact(tmp_path: Path) -> tuple[modelport.Artifact, np.ndarray]:
    x, y = numeric_regression(200)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    inputs = torch.tensor(x.to_numpy(), dtype=torch.float32)
    target = torch.tensor(y.to_numpy(), dtype=torch.float32).reshape(-1, 1)
    for _ in range(50):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(inputs), target).backward()
        optimizer.step()
    artifact = modelport.pack(net, name="net", sample=x, task="regression", out=tmp_path / "net")
    return artifact, x.to_numpy()


def test_cpu_only_flavors_refuse_an_accelerator(tmp_path: Path) -> None:
    artifact, _ = small_classifier(tmp_path / "a")
    assert modelport.load(artifact.path, device="auto").device == "cpu"
    with pytest.raises(FlavorError, match="sklearn flavor runs on the CPU only"):
        modelport.load(artifact.path, device="cuda")


@pytest.mark.skipif(HAS_CUDA, reason="checks the error on a machine without CUDA")
def test_missing_cuda_device_is_a_clear_error(tmp_path: Path) -> None:
    artifact, _ = _torch_artifact(tmp_path)
    with pytest.raises(FlavorError, match="torch sees 0 CUDA device"):
        modelport.load(artifact.path, device="cuda")
    assert modelport.load(artifact.path, device="auto").device == "cpu"
    with pytest.raises(FlavorError, match="unknown device 'tpu'"):
        modelport.load(artifact.path, device="tpu")


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device (run on the GPU machine)")
def test_torch_model_runs_on_cuda_and_passes_its_golden_check_there(tmp_path: Path) -> None:
    artifact, x = _torch_artifact(tmp_path)
    on_cpu = modelport.load(artifact.path).predict(x)
    on_gpu = modelport.load(artifact.path, device="cuda")  # the golden check ran on the GPU
    assert on_gpu.device == "cuda"
    assert next(on_gpu.model.parameters()).device.type == "cuda"  # type: ignore[attr-defined]
    np.testing.assert_allclose(on_gpu.predict(x), on_cpu, rtol=1e-5, atol=1e-5)
    assert modelport.load(artifact.path, device="auto").device == "cuda"
