"""pyfunc cases: a numpy softmax classifier with classes_ and predict_proba, and a regressor whose
coefficients are a data file it reads in load_context; both are user .py files copied to tmp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from modelport.artifact.pycode import import_file
from tests.data import numeric_classification, numeric_regression
from tests.flavor_cases.base import CaseData, FlavorCase

MODELS = Path(__file__).parent / "pyfunc_models"


def user_class(folder: Path, file_name: str, class_name: str) -> Any:
    """Copy a model file into ``folder`` and import it the way a user's own module would be."""
    path = folder / file_name
    shutil.copyfile(MODELS / file_name, path)
    module = import_file(path, f"user_{path.stem}_{abs(hash(str(folder)))}")
    return getattr(module, class_name)


def _classifier(tmp: Path) -> CaseData:
    x, _ = numeric_classification(300, classes=3)
    model = user_class(tmp, "softmax_classifier.py", "SoftmaxClassifier")()
    return CaseData(model, x, model.predict, model.predict_proba, tmp / "softmax_classifier.py")


def _regressor(tmp: Path) -> CaseData:
    x, y = numeric_regression(300)
    design = np.column_stack([x.to_numpy(), np.ones(len(x))])
    solution = np.linalg.lstsq(design, y.to_numpy(), rcond=None)[0]
    (tmp / "coefficients.json").write_text(json.dumps(
        {"columns": list(x.columns), "coef": solution[:-1].tolist(), "intercept": solution[-1]}))
    model = user_class(tmp, "least_squares_regressor.py", "LeastSquaresRegressor")()
    model.load_context(tmp)
    return CaseData(model, x, model.predict, None, tmp / "least_squares_regressor.py",
                    {"target": y})


CASES = [
    FlavorCase("pyfunc-softmax-classifier", "pyfunc", _classifier),
    FlavorCase("pyfunc-regressor-data-file", "pyfunc", _regressor),
]
