"""A scikit-learn forest's own ``predict_proba`` against the same forest loaded from an artifact.

Run: PYTHONPATH=src:. python bench/forest_predict.py [--trees 100]
Model: RandomForestClassifier(TREES, random_state=0) on sklearn's bundled breast_cancer data, packed
and loaded with modelport, whose sklearn flavor predicts through the trees directly (the predictor
``artifact/flavors/sklearn_forests.accelerated`` gives for the loaded model). Prints the median
microseconds of 30 calls (3 for the large batch), after 20 warm-up calls, of each on 1, 64 and
50,000 rows given as a DataFrame, and checks that both give the same bits.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from bench.serving_peers import _median_us
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

import modelport
from modelport.artifact.flavors.sklearn_forests import accelerated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    forest = RandomForestClassifier(args.trees, random_state=0).fit(x, y)
    with tempfile.TemporaryDirectory() as work:
        model = modelport.pack(forest, name="forest", sample=x, out=Path(work) / "forest").load().model
        loaded = accelerated(model)  # what the sklearn flavor predicts with
        assert loaded is not None
        for rows in (1, 64, 50_000):
            frame = x.iloc[np.arange(rows) % len(x)]
            assert np.array_equal(loaded.predict_proba(frame), forest.predict_proba(frame))
            repeat = 30 if rows < 1000 else 3
            own = _median_us(lambda f=frame: forest.predict_proba(f), repeat)
            direct = _median_us(lambda f=frame: loaded.predict_proba(f), repeat)
            print(f"{rows:>6,} rows: scikit-learn {own:>9,.0f} µs, loaded by modelport {direct:>9,.0f} µs "
                  f"({own / direct:.1f}x), same bits")


if __name__ == "__main__":
    main()
