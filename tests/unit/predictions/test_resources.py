"""The prediction log samples its own process's CPU and memory off the request path and writes them
beside the predictions, per model it logged, so a report run later from the log alone can show them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from modelport.errors import ConfigError
from modelport.predictions import PredictionLog, read_predictions, read_resources
from modelport.predictions.compact import compact
from modelport.predictions.resources import ResourceSample, ResourceSampler
from modelport.predictions.segments import write_segment
from tests.unit.predictions.helpers import classified


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_samples_are_written_per_logged_model_and_read_back(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, flush_interval_s=0.05, resource_interval_s=0.05, resource_write_s=3600)
    log.submit(classified(3, model="credit"))
    log.submit(classified(2, model="churn"))
    _busy(0.3)
    log.close()
    rss = psutil.Process().memory_info().rss
    for model in ("credit", "churn"):
        samples = read_resources(tmp_path, model)
        assert len(samples) >= 2
        assert set(samples["pid"]) == {os.getpid()}
        assert set(samples["model"]) == {model}
        assert samples["time"].is_monotonic_increasing
        assert str(samples["time"].dtype) == "datetime64[us, UTC]"
        assert samples["cpu_seconds"].is_monotonic_increasing
        assert samples["cpu_share"].iloc[1:].notna().all()
        assert samples["cpu_share"].max() > 0
        assert 0.1 * rss < samples["rss_bytes"].iloc[-1] < 10 * rss
    # the samples are no predictions: the prediction reader does not see them
    assert len(read_predictions(tmp_path, "credit")) == 3
    later = read_resources(tmp_path, "credit", since=pd.Timestamp.now(tz="UTC") + pd.Timedelta("1h"))
    assert len(later) == 0
    assert list(later.columns) == list(read_resources(tmp_path, "credit").columns)


def test_without_an_interval_nothing_is_sampled(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=0.05) as log:
        log.submit(classified(1))
    assert not (tmp_path / "resources").exists()
    assert len(read_resources(tmp_path, "credit")) == 0


def test_samples_taken_before_the_first_prediction_wait_for_a_model(tmp_path: Path) -> None:
    sampler = ResourceSampler(interval_s=60)
    sampler.sample()
    assert sampler.write(tmp_path, []) == 0
    sampler.sample()
    assert sampler.write(tmp_path, ["credit"]) == 1
    assert len(read_resources(tmp_path, "credit")) == 2


def test_a_bad_interval_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="resource_interval_s"):
        PredictionLog(tmp_path, resource_interval_s=0)


def test_resource_segments_of_closed_days_are_compacted(tmp_path: Path) -> None:
    sampler = ResourceSampler(interval_s=60)
    folder = tmp_path / "resources" / "model=credit" / "date=2026-01-05"
    when = int(pd.Timestamp("2026-01-05 10:00", tz="UTC").value // 1000)
    for k in range(3):
        sample = ResourceSample(when + k, os.getpid(), cpu_seconds=1.0 + k, cpu_share=0.1, rss_bytes=2**20)
        write_segment(folder, sampler.table([sample], "credit"))
    assert compact(tmp_path, "credit") == []  # the predictions' folders: none
    [merged] = compact(tmp_path, "credit", resources=True)
    assert [p.name for p in folder.glob("*.parquet")] == [merged.name]
    assert len(read_resources(tmp_path, "credit", since="2026-01-05", until="2026-01-06")) == 3
