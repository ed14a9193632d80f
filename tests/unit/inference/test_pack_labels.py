"""pack(labels=...) names the class indices 0..k-1 a model was fitted on, for any flavor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

import modelport
from tests.data import numeric_classification


def test_labels_name_the_indices_a_model_predicts(tmp_path: Path) -> None:
    x, y = numeric_classification(200)
    model = LogisticRegression().fit(x, y)  # classes 0, 1: predict() returns indices
    loaded = modelport.load(modelport.pack(model, name="c", sample=x, labels=["no", "yes"],
                                           out=tmp_path / "art").path)
    assert loaded.labels == ["no", "yes"]
    np.testing.assert_array_equal(loaded.predict(x), np.array(["no", "yes"])[model.predict(x)])
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))
