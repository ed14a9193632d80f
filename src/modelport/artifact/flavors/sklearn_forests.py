"""Forest predictions without joblib's per-tree dispatch, bit for bit what scikit-learn computes.

A scikit-learn forest predicts through ``joblib.Parallel`` with one task per tree, even with
``n_jobs=None``, and every tree validates its input again: about 40 µs per tree, so a 100-tree
forest spends ~4 ms on one row of which the trees themselves take ~0.25 ms. A served model
answers one row or a small batch at a time, where that dispatch is nearly all the cost.

``accelerate`` gives a loaded forest (or the forest at the end of a Pipeline) ``predict_proba``
(classifiers) or ``predict`` (regressors) methods that validate the input once, then sum what
``tree_.predict`` returns (the leaf values ``tree_.apply`` reaches) over the trees in their order
and divide by their number: the same float32 input, the same additions in the same order, so the
same bits as scikit-learn's sequential path.
Validation is the forest's own, except for the plainest input (float columns under the fitted
names, all finite), which is converted to float32 directly: scikit-learn's checks of a 30-column
frame cost more than the 100 trees on 64 rows. Only single-output forests of the four stock
classes are touched (a subclass may override what it predicts); anything else, sparse input
included, takes scikit-learn's own path.
The loaded model's golden check then compares the accelerated outputs with those scikit-learn
produced at pack time.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pandas as pd

#: the stock forests whose prediction is the mean of their trees' ``tree_.predict``
CLASSIFIERS = ("RandomForestClassifier", "ExtraTreesClassifier")
REGRESSORS = ("RandomForestRegressor", "ExtraTreesRegressor")
FOREST_MODULE = "sklearn.ensemble._forest"


def accelerate(model: Any) -> Any:
    """Give ``model`` (or the last step of a Pipeline, nested ones too) the direct tree loop."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        accelerate(steps[-1][1])
        return model
    kind = _forest_kind(model)
    if kind is None:
        return model
    # each tree's leaf values, as ``tree_.predict`` takes them (``tree_.value`` is rebuilt per call)
    width = int(model.n_classes_) if kind == "classifier" else 1
    leaves = [(tree.tree_, tree.tree_.value.reshape(tree.tree_.node_count, -1)[:, :width])
              for tree in model.estimators_]
    if kind == "classifier":
        original = model.predict_proba
        model.predict_proba = types.MethodType(_direct(original, leaves, width), model)
    else:
        original = model.predict
        model.predict = types.MethodType(_direct(original, leaves, None), model)
    return model


def _forest_kind(model: Any) -> str | None:
    cls = type(model)
    if cls.__module__ != FOREST_MODULE or getattr(model, "n_outputs_", None) != 1:
        return None
    if not hasattr(model, "estimators_") or not hasattr(model, "_validate_X_predict"):
        return None
    if cls.__name__ in CLASSIFIERS and isinstance(getattr(model, "n_classes_", None), int | np.integer):
        return "classifier"
    if cls.__name__ in REGRESSORS:
        return "regressor"
    return None


def _plain_float32(forest: Any, X: Any) -> np.ndarray | None:
    """``X`` as the float32 matrix the forest's validation makes of it, when that is plainly so.

    A DataFrame with exactly the fitted column names, every column float64 or float32 (an
    int64 column may round differently on the way to float32), or a 2-D float array for a forest
    fitted without names; and every value finite once float32 (else the forest's own validation
    decides: missing values may be allowed, infinities are refused with its message). Checking a
    frame column by column costs scikit-learn ~10 µs a column; this costs a few µs in all.
    """
    names = getattr(forest, "feature_names_in_", None)
    if isinstance(X, pd.DataFrame):
        if names is None or X.shape[1] != len(names) or X.columns.tolist() != names.tolist():
            return None
        if not all(isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize in (4, 8)
                   for dtype in X.dtypes):
            return None
        with np.errstate(over="ignore"):  # too large for float32: refused below, as scikit-learn does
            values = X.to_numpy(dtype=np.float32)
    elif isinstance(X, np.ndarray) and names is None:
        if X.ndim != 2 or X.shape[1] != forest.n_features_in_ or X.dtype.kind != "f":
            return None
        with np.errstate(over="ignore"):
            values = X.astype(np.float32)
    else:
        return None
    return values if np.isfinite(values).all() else None


def _direct(original: Any, leaves: list[tuple[Any, np.ndarray]], classes: int | None) -> Any:
    def predict(forest: Any, X: Any) -> np.ndarray:
        checked = _plain_float32(forest, X)
        if checked is None:
            checked = forest._validate_X_predict(X)
        if not isinstance(checked, np.ndarray):
            return np.asarray(original(X))  # sparse: scikit-learn's own path
        return _mean(leaves, checked, classes)

    # a pickled bound method is rebuilt as getattr(forest, __name__): name it for what it replaces
    predict.__name__ = predict.__qualname__ = original.__name__
    predict.__doc__ = original.__doc__
    return predict


def _mean(leaves: list[tuple[Any, np.ndarray]], X: np.ndarray, classes: int | None) -> np.ndarray:
    """The trees' mean: class fractions (n, classes) for a classifier, values (n,) for a regressor,
    summed in the trees' order as the forest's sequential path does."""
    total = np.zeros((X.shape[0], classes) if classes is not None else X.shape[0], dtype=np.float64)
    for tree, values in leaves:
        reached = values.take(tree.apply(X), axis=0)
        total += reached if classes is not None else reached[:, 0]
    total /= len(leaves)
    return total
