"""The report on a regressor (numerical prediction drift, MAE/RMSE/R² as scikit-learn computes them), on
an empty log, and what importing the reports package and the CLI loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression

import modelport
from modelport.reports import MonitorReport, Reference, build_report, load_reference, render_html, render_json
from tests.data import numeric_regression
from tests.prediction_logs import START


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reference, pd.DataFrame]:
    x, y = numeric_regression(1600, seed=4)
    packed = modelport.pack(LinearRegression().fit(x[:800], y[:800]), name="prices", sample=x[:800],
                            target=y[:800], out=tmp_path_factory.mktemp("regression") / "prices")
    live = x[800:].reset_index(drop=True)
    live = live.assign(x1=np.where(live.index >= 400, live["x1"] + 1.0, live["x1"]))  # the second half moves
    times = START + pd.to_timedelta(np.arange(800) * 9.0, unit="s")  # 800 rows over two hours
    log = pd.DataFrame({"id": range(800), "time": times, "model": "prices", "version": "1", "status": 200,
                        "latency_ms": np.linspace(1.0, 9.0, 800),
                        **{f"input.{c}": live[c] for c in live},
                        "prediction": modelport.load(packed.path).predict(live),
                        "label": y[800:].to_numpy()})
    return load_reference(packed.path), log


def test_a_regressor_gets_numerical_prediction_drift_and_sklearns_regression_metrics(
        regression: tuple[Reference, pd.DataFrame]) -> None:
    reference, log = regression
    report = build_report(reference, log, window="1h")
    assert report.model.task == "regression"
    assert "x1" in report.drifted
    assert report.feature("x1").since == START + pd.Timedelta("1h")
    assert [t.name for t in report.outputs] == ["prediction"]
    assert report.outputs[0].kind == "numerical"
    for window in report.windows:
        rows = log[(log["time"] >= window.span.start) & (log["time"] < window.span.end)]
        assert window.performance is not None
        assert window.estimated is None
        got = {m.metric: m.value for m in window.performance.metrics}
        truth, predicted = rows["label"], rows["prediction"]
        assert got["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted), abs=1e-12)
        assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(truth, predicted), abs=1e-12)
        assert got["r2"] == pytest.approx(skm.r2_score(truth, predicted), abs=1e-12)
    assert {m.metric for m in report.metrics} == {"mae", "rmse", "r2"}


def test_an_empty_log_renders_and_alerts_nothing(regression: tuple[Reference, pd.DataFrame]) -> None:
    reference, log = regression
    report: MonitorReport = build_report(reference, log.iloc[:0], window="1h")
    assert (report.windows, report.alerts) == ((), ())
    assert report.overall.operations.requests == 0
    assert json.loads(render_json(report))["overall"]["operations"]["latency_ms"]["p99"] is None
    assert "Plotly.newPlot" not in render_html(report)


def _loaded(code: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(modelport.__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            check=True, timeout=120)
    return result.stdout.split()


def test_plotly_loads_only_to_render_html_and_the_cli_loads_no_statistics() -> None:
    assert _loaded("import sys, modelport.reports; print('plotly' in sys.modules)") == ["False"]
    assert _loaded("import sys, modelport.cli.main; "
                   "print(*(m in sys.modules for m in ('modelport.reports', 'sklearn', 'scipy')))") == \
        ["False", "False", "False"]
