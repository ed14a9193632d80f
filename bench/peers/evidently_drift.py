"""Time Evidently's data drift preset on the reference and window parquet files drift_throughput.py wrote.

Run by bench/drift_throughput.py with the Python of a virtualenv holding
bench/peers/requirements-evidently.txt; prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main(reference_path: str, window_path: str, numerical: str, categorical: str, repeat: str) -> None:
    reference, window = pd.read_parquet(reference_path), pd.read_parquet(window_path)
    definition = DataDefinition(numerical_columns=numerical.split(","),
                                categorical_columns=categorical.split(","))
    runs, datasets, snapshot = [], [], None
    for _ in range(int(repeat)):
        started = time.perf_counter()
        current = Dataset.from_pandas(window, data_definition=definition)
        base = Dataset.from_pandas(reference, data_definition=definition)
        built = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=base)
        runs.append(time.perf_counter() - started)
        datasets.append(built - started)
    drifted = []
    assert snapshot is not None
    for metric in snapshot.dict()["metrics"]:
        config, value = metric["config"], metric["value"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        # Evidently's p-value tests name themselves "... p_value"; its distances alarm at or above.
        by_p_value = "p_value" in config["method"]
        if (value < config["threshold"]) if by_p_value else (value >= config["threshold"]):
            drifted.append(config["column"])
    print(json.dumps({"seconds": runs, "dataset_seconds": datasets, "drifted": sorted(drifted)}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
