"""The GPU path of serving: a torch model loaded on CUDA answers through the batcher with what it
answers on the CPU, and /metrics reports the accelerator's memory and utilisation. Runs on a machine
with a CUDA device (the project's GPU machine); skipped elsewhere."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from modelport.inference.load import load  # noqa: E402
from tests.serving_apps import serving  # noqa: E402
from tests.unit.inference.test_device import _torch_artifact  # noqa: E402

pytestmark = [pytest.mark.anyio,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _gauge(text: str, name: str) -> float:
    found = re.search(rf'^{name}\{{device="cuda[^"]*"\}} (\S+)$', text, re.M)
    assert found is not None, f"{name} missing from /metrics"
    return float(found.group(1))


async def test_a_torch_model_serves_from_cuda_with_its_gpu_gauges(tmp_path: Path) -> None:
    artifact, x = _torch_artifact(tmp_path)
    expected = load(artifact.path, golden_check=False).predict(x)
    on_gpu = load(artifact.path, golden_check=False, device="cuda")
    assert on_gpu.device == "cuda"
    names = on_gpu.signature.names
    async with serving([on_gpu], max_batch_delay_ms=5) as (client, service):
        assert service.devices == ["cuda"]
        bodies = [{"instances": [dict(zip(names, row.tolist(), strict=True))]} for row in x[:64]]
        answers = await asyncio.gather(*(client.post("/v1/models/net:predict", json=b) for b in bodies))
        assert [a.status_code for a in answers] == [200] * 64
        got = np.array([a.json()["predictions"][0] for a in answers])
        np.testing.assert_allclose(got, expected[:64], rtol=1e-5, atol=1e-5)
        for _ in range(100):  # each process samples its resources every second
            text = (await client.get("/metrics")).text
            if "modelport_gpu_memory_allocated_bytes{" in text:
                break
            await asyncio.sleep(0.1)
    assert _gauge(text, "modelport_gpu_memory_allocated_bytes") > 0
    print("gpu utilisation gauge:", re.findall(r"^modelport_gpu_utilization_ratio.*$", text, re.M))
