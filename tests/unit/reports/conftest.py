"""One credit artifact and its prediction logs, shared by the report tests (packing takes seconds)."""

from __future__ import annotations

import pandas as pd
import pytest

import modelport
from modelport.reports import MonitorReport, Reference, build_report, load_reference
from tests.prediction_logs import credit_halves, pack_credit, prediction_log

#: the drift case shifts its inputs from this hour of six on, and has labels up to it
SHIFT_HOUR = 3


@pytest.fixture(scope="session")
def packed(tmp_path_factory: pytest.TempPathFactory) -> modelport.Artifact:
    return pack_credit(tmp_path_factory.mktemp("reports") / "credit")


@pytest.fixture(scope="session")
def model(packed: modelport.Artifact) -> modelport.LoadedModel:
    return modelport.load(packed.path)


@pytest.fixture(scope="session")
def reference(packed: modelport.Artifact) -> Reference:
    return load_reference(packed.path, version="credit:1")


@pytest.fixture(scope="session")
def steady_log(model: modelport.LoadedModel) -> pd.DataFrame:
    """Six hours of predictions on rows drawn like the reference's, every label arrived."""
    _, _, x, y = credit_halves()
    return prediction_log(model, x, y)


@pytest.fixture(scope="session")
def shifted_log(model: modelport.LoadedModel) -> pd.DataFrame:
    """The same rows with Age, Amount and Home shifted from hour 3 on; labels only up to hour 3."""
    _, _, x, y = credit_halves()
    return prediction_log(model, x, y, shift_from=SHIFT_HOUR, labelled_hours=range(SHIFT_HOUR + 1))


@pytest.fixture(scope="session")
def steady_report(reference: Reference, steady_log: pd.DataFrame) -> MonitorReport:
    return build_report(reference, steady_log, window="1h")


@pytest.fixture(scope="session")
def shifted_report(reference: Reference, shifted_log: pd.DataFrame) -> MonitorReport:
    return build_report(reference, shifted_log, window="1h")
