"""The rollout section's per-version rows: window statistics, p50, and predictions over shared bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.app.rollout_figures import rollout_section, version_rows
from modelport.promotion import window_statistics


def served(version: str, role: str, predictions: list[object], latency: list[float],
           status: list[int] | None = None) -> pd.DataFrame:
    n = len(predictions)
    return pd.DataFrame({"id": [f"{version}-{i}" for i in range(n)], "endpoint": "price", "model": "price",
                         "version": version, "role": role, "status": status or [200] * n,
                         "latency_ms": latency, "prediction": predictions})


def test_numeric_predictions_share_ten_bins_across_versions() -> None:
    frame = pd.concat([served("1", "primary", list(np.linspace(0.0, 10.0, 50)), [1.0] * 50),
                       served("2", "canary", list(np.linspace(5.0, 20.0, 30)), [2.0] * 29 + [50.0],
                              [200] * 28 + [500, 503])])
    one, two = version_rows(frame)
    stats = window_statistics(frame)
    assert (two.version, two.roles, two.requests, two.errors) == ("price:2", ("canary",), 30, 2)
    assert two.error_rate == stats["price:2"].error_rate
    assert (two.p50_ms, two.p99_ms) == (2.0, stats["price:2"].p99_ms)
    assert one.bins == two.bins
    assert len(one.bins) == 10
    highest = np.linspace(5.0, 20.0, 30)[27]  # the failed requests' predictions do not count
    assert one.bins[0].startswith("[0, ")
    assert one.bins[-1].endswith(f", {highest:.4g}]")
    assert sum(one.shares) == pytest.approx(1.0)
    assert sum(two.shares) == pytest.approx(1.0)
    assert one.shares[-1] == 0.0  # version 1 never predicted above 10


def test_labels_are_bins_and_one_version_alone_has_no_section() -> None:
    frame = pd.concat([served("1", "arm", ["a", "b", "b", "c"], [1.0] * 4),
                       served("2", "arm", ["b", "b", "d", "d"], [1.0] * 4)])
    one, two = version_rows(frame)
    assert one.bins == ("a", "b", "c", "d")
    assert (one.shares, two.shares) == ((0.25, 0.5, 0.25, 0.0), (0.0, 0.5, 0.0, 0.5))
    assert rollout_section(served("1", "primary", ["a"], [1.0])) is None
    assert rollout_section(served("1", "canary", ["a"], [1.0])) is None
