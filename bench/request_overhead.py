"""What one request costs modelport beyond the model, in process (no HTTP): decode an OIP v2 body,
validate, join, predict, encode, against ``predict_frame`` alone on the same row.

    PYTHONPATH=src:. python bench/request_overhead.py [--model forest|logreg|credit]

Fits and packs the model as bench/serving_peers.py does; prints the median microseconds of 200 calls
each (after 20 warm-up calls), as serving_peers.py times the model's own predict.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

from bench.serving_peers import _median_us, _v2_columns, _v2_tensor, build_model

import modelport
from modelport.serving.codecs import v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", choices=("forest", "logreg", "credit"), default="forest")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as work:
        spec = build_model(args.model, Path(work))
        model = modelport.load(spec.artifact)
        row = spec.rows.iloc[:1]
        inputs = _v2_columns(row, False) if spec.tabular else _v2_tensor(row)
        body = json.dumps({"inputs": inputs, "outputs": [{"name": spec.prediction_output}]}).encode()
        available = v2.output_names(model.signature, model.task)

        def whole() -> bytes:
            decoded = v2.decode(body, None, model.signature, available)
            rows, _ = model.validate_rows(decoded.raw)
            prediction = model.predict_frame(model.join([rows]), proba=True)
            return v2.encode(decoded, prediction, spec.name, "1", ["0" * 32])[0]

        decoded = v2.decode(body, None, model.signature, available)
        frame = model.join([model.validate_rows(decoded.raw)[0]])
        alone = _median_us(lambda: model.predict_frame(frame, proba=True))
        path = _median_us(whole)
        print(f"{args.model}: predict_frame {alone:,.0f} µs, whole request path {path:,.0f} µs, "
              f"overhead {path - alone:,.0f} µs")


if __name__ == "__main__":
    main()
