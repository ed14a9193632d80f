"""The shared permutation importance: scikit-learn's own numbers through a predict function, and the one
implementation the artifact's reference importances and the monitoring's window importances both use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression

from modelport.core import importance
from modelport.inference import reference
from modelport.monitoring import importance as monitoring_importance
from tests.data import numeric_classification, numeric_regression


def test_it_equals_sklearns_permutation_importance_on_the_chosen_rows() -> None:
    x, y = numeric_classification(600, seed=2)
    model = LogisticRegression().fit(x, y)
    ours = importance.permutation_importances(model.predict, x, y, task="classification", rows=400,
                                              repeats=3, row_seed=1, shuffle_seed=0)
    rows = importance.choose_rows(len(x), 400, seed=1)
    theirs = permutation_importance(model, x.iloc[rows], y.iloc[rows], scoring="accuracy", n_repeats=3,
                                    random_state=0)
    assert list(ours) == [str(c) for c in x.columns]
    np.testing.assert_allclose(list(ours.values()), theirs.importances_mean, rtol=0, atol=1e-12)


def test_regression_uses_r2_and_columns_pick_a_subset() -> None:
    x, y = numeric_regression(300, seed=3)
    model = LinearRegression().fit(x, y)
    chosen = [str(x.columns[1]), str(x.columns[0])]
    ours = importance.permutation_importances(model.predict, x, y, task="regression", rows=1000, repeats=2,
                                              row_seed=1, shuffle_seed=0, columns=chosen)
    theirs = permutation_importance(model, x, y, scoring="r2", n_repeats=2, random_state=0)
    assert list(ours) == chosen
    assert ours[chosen[0]] == pytest.approx(theirs.importances_mean[1], abs=1e-12)


def test_the_reference_and_the_monitoring_share_one_scorer() -> None:
    assert not hasattr(reference, "_Scorer")
    assert not hasattr(monitoring_importance, "_Scorer")
    rows = pd.DataFrame({"a": range(50)})
    assert reference.choose_rows(rows, 20, seed=4).tolist() == importance.choose_rows(50, 20, 4).tolist()
