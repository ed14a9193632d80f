"""A missing category is one value to the model, however it arrived: a JSON null (None), NaN or pd.NA
give the credit pipeline (tests/artifacts.py: most-frequent imputation, one-hot) the same prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelport
from modelport.core.schema import ColumnKind
from tests.artifacts import credit_artifact
from tests.data import credit


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> modelport.LoadedModel:
    return modelport.load(credit_artifact(tmp_path_factory.mktemp("missing") / "credit").path)


def _with_missing(model: modelport.LoadedModel, missing: object) -> pd.DataFrame:
    rows = credit(40)[0].iloc[:12].reset_index(drop=True)
    nullable = [s.name for s in model.signature.inputs if s.kind is ColumnKind.CATEGORY and s.nullable]
    assert nullable, "the credit data has a nullable category column (Home)"
    rows = rows.astype(dict.fromkeys(nullable, object))
    for name in nullable:
        rows[name] = pd.Series(rows[name].tolist(), dtype=object).where(rows.index % 2 == 0, missing)
    return rows


def test_none_nan_and_na_in_a_category_column_predict_the_same(model: modelport.LoadedModel) -> None:
    nan = model.predict_detailed(_with_missing(model, np.nan))
    for missing in (None, pd.NA):
        other = model.predict_detailed(_with_missing(model, missing))
        assert other.values.tolist() == nan.values.tolist()
        assert other.probabilities is not None
        np.testing.assert_array_equal(other.probabilities, nan.probabilities)


def test_a_json_null_predicts_as_nan_through_records(model: modelport.LoadedModel, tmp_path: Path) -> None:
    rows = _with_missing(model, None)
    records = rows.to_dict("records")  # what a JSON body of records decodes to: None for null
    assert any(r["Home"] is None for r in records)
    assert model.predict(records).tolist() == model.predict(_with_missing(model, np.nan)).tolist()
    frame, _ = model.validate(records)
    assert all(isinstance(v, str) or np.isnan(v) for v in frame["Home"])
