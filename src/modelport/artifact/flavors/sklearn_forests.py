"""Forest predictions without joblib's per-tree dispatch, bit for bit what scikit-learn computes.

A scikit-learn forest predicts through ``joblib.Parallel`` with one task per tree, even with
``n_jobs=None``, and every tree validates its input again: about 40 µs per tree, so a 100-tree
forest spends ~4 ms on one row of which the trees themselves take ~0.25 ms. A served model
answers one row or a small batch at a time, where that dispatch is nearly all the cost.

``accelerate`` registers, beside a loaded forest (or a Pipeline ending in one, nested ones too), a
predictor whose ``predict_proba`` (classifiers) and ``predict`` validate the input once, then sum
what ``tree_.predict`` returns (the leaf values ``tree_.apply`` reaches) over the trees in their
order and divide by their number: the same float32 input, the same additions in the same order, so
the same bits as scikit-learn's sequential path. The flavor's ``run`` asks ``accelerated`` for it.
The model object itself is left as scikit-learn made it, so it still saves, pickles and compares
as one (``LoadedModel.model`` is public), and ``pack``, which never loads, computes the golden
outputs with scikit-learn's own path; the loaded model's golden check then compares the two.
Validation is the forest's own, except for the plainest input (float columns under the fitted
names, all finite), which is converted to float32 directly: scikit-learn's checks of a 30-column
frame cost more than the 100 trees on 64 rows. Only single-output forests of the four stock
classes are taken (a subclass may override what it predicts); anything else, sparse input
included, takes scikit-learn's own path.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pandas as pd

#: the stock forests whose prediction is the mean of their trees' ``tree_.predict``
CLASSIFIERS = ("RandomForestClassifier", "ExtraTreesClassifier")
REGRESSORS = ("RandomForestRegressor", "ExtraTreesRegressor")
FOREST_MODULE = "sklearn.ensemble._forest"


#: the predictor of each model ``accelerate`` took, by the model object (gone with it)
_PREDICTORS: weakref.WeakKeyDictionary[Any, Forest] = weakref.WeakKeyDictionary()


class Forest:
    """A forest's predictions through its trees directly, after the Pipeline steps before it."""

    def __init__(self, forest: Any, classes: int | None, heads: tuple[Any, ...] = ()) -> None:
        # weakly: a bare forest is its own key in ``_PREDICTORS``, whose values are held strongly
        self._forest = weakref.ref(forest)
        #: Pipelines of the steps before the forest, outermost first
        self.heads = heads
        self.classes = classes
        # each tree's leaf values, as ``tree_.predict`` takes them (``tree_.value`` is rebuilt per call)
        width = classes or 1
        self.leaves = [(tree.tree_, tree.tree_.value.reshape(tree.tree_.node_count, -1)[:, :width])
                       for tree in forest.estimators_]

    @property
    def forest(self) -> Any:
        return self._forest()

    def _scores(self, X: Any) -> np.ndarray:
        for head in self.heads:
            X = head.transform(X)
        forest = self.forest
        checked = _plain_float32(forest, X)
        if checked is None:
            checked = forest._validate_X_predict(X)
        if not isinstance(checked, np.ndarray):  # sparse: scikit-learn's own path
            own = forest.predict_proba if self.classes is not None else forest.predict
            return np.asarray(own(checked))
        return _mean(self.leaves, checked, self.classes)


class ForestClassifier(Forest):
    """What ``call_estimator`` asks of a classifier: ``predict``, ``predict_proba``, ``classes_``."""

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.forest.classes_)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._scores(X)

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.forest.classes_.take(np.argmax(self._scores(X), axis=1), axis=0))


class ForestRegressor(Forest):
    def predict(self, X: Any) -> np.ndarray:
        return self._scores(X)


def accelerate(model: Any) -> None:
    """Register the direct predictor of ``model`` when it is, or ends in, a stock forest."""
    predictor = _predictor(model)
    if predictor is not None:
        _PREDICTORS[model] = predictor


def accelerated(model: Any) -> Forest | None:
    """The predictor ``accelerate`` registered for ``model``, or None (use the model itself)."""
    try:
        return _PREDICTORS.get(model)
    except TypeError:  # not weakly referenceable: never registered
        return None


def _predictor(model: Any, heads: tuple[Any, ...] = ()) -> Forest | None:
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:  # a Pipeline: its leading steps, then its last one
        return _predictor(steps[-1][1], (*heads, model[:-1]))
    kind = _forest_kind(model)
    if kind == "classifier":
        return ForestClassifier(model, int(model.n_classes_), heads)
    if kind == "regressor":
        return ForestRegressor(model, None, heads)
    return None


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


def _mean(leaves: list[tuple[Any, np.ndarray]], X: np.ndarray, classes: int | None) -> np.ndarray:
    """The trees' mean: class fractions (n, classes) for a classifier, values (n,) for a regressor,
    summed in the trees' order as the forest's sequential path does."""
    total = np.zeros((X.shape[0], classes) if classes is not None else X.shape[0], dtype=np.float64)
    for tree, values in leaves:
        reached = values.take(tree.apply(X), axis=0)
        total += reached if classes is not None else reached[:, 0]
    total /= len(leaves)
    return total
