"""The direct forest path: the same bits as scikit-learn's, on every input it accepts or refuses."""

from __future__ import annotations

import copy
import gc
import re
import warnings
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelport
from modelport.artifact.flavors.sklearn import dump_skops, load_skops, untrusted_types
from modelport.artifact.flavors.sklearn_forests import accelerate, accelerated
from tests.data import numeric_classification, numeric_regression


def _pair(model: Any) -> tuple[Any, Any, Any]:
    """(scikit-learn's own model, an identical copy, the copy's direct predictor); keep the copy:
    the predictor holds its forest weakly."""
    twin = copy.deepcopy(model)
    accelerate(twin)
    fast = accelerated(twin)
    assert fast is not None
    return model, twin, fast


CLASSIFIERS = [
    RandomForestClassifier(n_estimators=25, random_state=0),
    RandomForestClassifier(n_estimators=7, max_depth=3, class_weight="balanced", random_state=1),
    ExtraTreesClassifier(n_estimators=25, random_state=0),
    RandomForestClassifier(n_estimators=10, n_jobs=2, random_state=2),
]


@pytest.mark.parametrize("forest", CLASSIFIERS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("classes", [2, 3])
def test_classifier_probabilities_and_labels_are_bit_identical(forest: Any, classes: int) -> None:
    x, y = numeric_classification(300, classes=classes)
    own, _twin, fast = _pair(forest.fit(x, y))
    assert accelerated(own) is None
    fresh, _ = numeric_classification(257, classes=classes, seed=7)
    for rows in (fresh.head(1), fresh.head(64), fresh, fresh.astype(np.float32)):
        assert np.array_equal(fast.predict_proba(rows), own.predict_proba(rows))
        assert np.array_equal(fast.predict(rows), own.predict(rows))


@pytest.mark.parametrize("forest", [RandomForestRegressor(n_estimators=20, random_state=0),
                                    ExtraTreesRegressor(n_estimators=20, max_depth=5, random_state=0)],
                         ids=lambda m: type(m).__name__)
def test_regressor_values_are_bit_identical(forest: Any) -> None:
    x, y = numeric_regression(300)
    own, _twin, fast = _pair(forest.fit(x, y))
    fresh, _ = numeric_regression(100, seed=3)
    assert np.array_equal(fast.predict(fresh), own.predict(fresh))
    assert fast.predict(fresh).shape == (100,)


def test_missing_values_follow_the_trees_learned_direction() -> None:
    x, y = numeric_classification(300)
    x.iloc[::7, 1] = np.nan  # trees fitted on missing values learn where they go
    own, _twin, fast = _pair(RandomForestClassifier(n_estimators=15, random_state=0).fit(x, y))
    probe = x.head(50).copy()
    probe.iloc[::3, 0] = np.nan
    assert np.array_equal(fast.predict_proba(probe), own.predict_proba(probe))


def test_inputs_off_the_plain_float_path_give_the_same_bits_through_scikit_learns_checks() -> None:
    x, y = numeric_classification(300)
    own, _twin, fast = _pair(RandomForestClassifier(n_estimators=15, random_state=0).fit(x, y))
    probe = x.head(40)
    big_ints = pd.DataFrame({c: (probe[c] * 1e9).astype(np.int64) for c in probe.columns})
    nullable = probe.astype("Float64")
    mixed = probe.astype({"x2": np.float32})
    for rows in (big_ints, nullable, mixed, probe.to_numpy()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the array has no feature names: warned twice
            assert np.array_equal(fast.predict_proba(rows), own.predict_proba(rows))
    too_large = probe.assign(x1=probe["x1"] * 1e39)  # finite in float64, infinite in float32
    for model in (own, fast):  # both refuse, after numpy's warnings about the overflow
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(ValueError, match="infinity"):
                model.predict_proba(too_large)
    with pytest.raises(ValueError, match="feature names"):
        fast.predict_proba(probe[["x2", "x1", "x3", "x4"]])


def test_refusals_are_scikit_learns_own() -> None:
    x, y = numeric_classification(100)
    own, _twin, fast = _pair(RandomForestClassifier(n_estimators=5, random_state=0).fit(x.to_numpy(), y))
    for bad, problem in ((np.ones((2, 3)), "features"), (np.array([[np.inf, 0, 0, 0]]), "infinity")):
        with pytest.raises(ValueError, match=problem) as theirs:
            own.predict_proba(bad)
        with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
            fast.predict_proba(bad)


def test_sparse_input_takes_scikit_learns_path_with_the_same_result() -> None:
    x, y = numeric_classification(200)
    own, _twin, fast = _pair(RandomForestClassifier(n_estimators=5, random_state=0).fit(x.to_numpy(), y))
    rows = sparse.csr_matrix(np.where(np.abs(x.to_numpy()) < 1, 0.0, x.to_numpy()))
    assert np.array_equal(fast.predict_proba(rows), own.predict_proba(rows))


def test_only_single_output_stock_forests_at_the_end_of_a_pipeline_are_taken() -> None:
    x, y = numeric_classification(200)
    inner = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5))
    pipe = make_pipeline(StandardScaler(), inner).fit(x, y)
    accelerate(pipe)
    fast = accelerated(pipe)
    assert fast is not None  # through the steps before it, nested Pipelines too
    assert np.array_equal(fast.predict_proba(x), pipe.predict_proba(x))
    assert np.array_equal(fast.predict(x), pipe.predict(x))
    assert accelerated(pipe[0]) is None
    two_outputs = RandomForestClassifier(n_estimators=5).fit(x, np.c_[y, 1 - y])
    accelerate(two_outputs)
    assert accelerated(two_outputs) is None

    class Custom(RandomForestClassifier):
        pass

    custom = Custom(n_estimators=5).fit(x, y)
    accelerate(custom)
    assert accelerated(custom) is None


def test_the_model_is_left_as_scikit_learn_made_it_and_freed_with_its_predictor(tmp_path: Path) -> None:
    x, y = numeric_classification(200, classes=3)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    before = set(vars(model))
    accelerate(model)
    assert set(vars(model)) == before
    dump_skops(model, tmp_path / "again.skops")  # saves again (a patched method made skops recurse)
    again = load_skops(tmp_path / "again.skops", untrusted_types(tmp_path / "again.skops"))
    assert np.array_equal(again.predict_proba(x), model.predict_proba(x))
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_a_loaded_forest_artifact_is_accelerated_and_passes_its_golden_check(tmp_path: Path) -> None:
    x, y = numeric_classification(300, classes=3)
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(x, y)
    artifact = modelport.pack(model, name="rf", sample=x, out=tmp_path / "rf")
    loaded = artifact.load()
    assert accelerated(loaded.model) is not None
    expected = model.predict_proba(x)
    assert np.array_equal(loaded.predict_proba(pd.DataFrame(x)), expected)
