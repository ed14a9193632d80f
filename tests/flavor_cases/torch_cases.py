"""Torch cases: a plain nn.Module classifier with logits (pack traces it and picks softmax), and a
scripted regressor behind a preprocessing function in a packed Python file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from tests.data import numeric_classification, numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase

STEPS = 60
PREPROCESS_SOURCE = '''"""Raw columns plus their x3*x4 interaction, as the network learned them."""

import numpy as np


def preprocess(frame):
    x = frame[["x1", "x2", "x3", "x4"]].to_numpy(dtype=np.float32)
    return np.column_stack([x, x[:, 2] * x[:, 3]]).astype(np.float32)
'''


def _fit(net: Any, x: np.ndarray, y: np.ndarray, loss_name: str) -> Any:
    import torch

    features = torch.from_numpy(x.astype(np.float32))
    target = torch.from_numpy(y)
    loss = getattr(torch.nn, loss_name)()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss(net(features), target).backward()
        optimizer.step()
    return net.eval()


def _mlp(inputs: int, outputs: int) -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(inputs, 8), torch.nn.ReLU(),
                               torch.nn.Linear(8, outputs))


def _numpy(net: Any, features: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.asarray(net(torch.from_numpy(features.astype(np.float32))).numpy(), dtype=float)


@cache
def _trained_classifier() -> tuple[Any, pd.DataFrame]:
    x, y = numeric_classification(300, classes=3)
    return _fit(_mlp(4, 3), x.to_numpy(), y.to_numpy(np.int64), "CrossEntropyLoss"), x


def _classifier(tmp: Path) -> CaseData:
    import torch

    net, x = _trained_classifier()
    path = tmp / "classifier.pt"
    torch.jit.save(torch.jit.trace(net, torch.zeros(2, 4)), str(path))

    def proba(frame: pd.DataFrame) -> np.ndarray:
        logits = _numpy(net, frame.to_numpy())
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    return CaseData(net, x, lambda f: proba(f).argmax(axis=1), proba, path,
                    {"task": "classification"}, atol=1e-5)


@cache
def _trained_regressor() -> tuple[Any, Any, Any, pd.DataFrame]:
    """Trained once per session: the network depends only on the fixed preprocessing code."""
    import torch

    features = ModuleType("torch_case_features")
    exec(compile(PREPROCESS_SOURCE, "features.py", "exec"), features.__dict__)
    x, y = numeric_regression(300)
    net = _fit(_mlp(5, 1), features.preprocess(x), y.to_numpy(np.float32).reshape(-1, 1), "MSELoss")
    return net, torch.jit.script(net), features.preprocess, x


def _regressor_python_preprocess(tmp: Path) -> CaseData:
    import torch

    source = tmp / "features.py"
    source.write_text(PREPROCESS_SOURCE)
    net, scripted, preprocess, x = _trained_regressor()
    path = tmp / "regressor.pth"
    torch.jit.save(scripted, str(path))
    return CaseData(scripted, x, lambda f: _numpy(net, preprocess(f))[:, 0], None, path,
                    {"preprocess": source}, atol=1e-5)


CASES = [
    FlavorCase("torch-traced-logits-classifier", "torch", _classifier),
    FlavorCase("torch-scripted-regressor-python-preprocess", "torch", _regressor_python_preprocess),
]
