"""Traffic for the live-monitoring tests: the credit model's production rows as requests, some of them
shifted on purpose, some rejected (422), and their delayed labels as feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tests.prediction_logs import credit_halves, shift

#: rows per request
BATCH = 50


@dataclass(frozen=True)
class Traffic:
    """Request bodies for ``POST /invocations``, and the labels of their rows in order."""

    steady: list[dict[str, Any]]
    shifted: list[dict[str, Any]]
    labels: list[Any]
    bad: list[dict[str, Any]]

    @property
    def rows(self) -> int:
        return sum(len(body["dataframe_records"]) for body in (*self.steady, *self.shifted))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (missing values as null)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def bodies(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"dataframe_records": records(frame.iloc[at:at + BATCH])} for at in range(0, len(frame), BATCH)]


def credit_traffic(steady: int = 600, shifted: int = 600, bad: int = 5) -> Traffic:
    """``steady`` rows as they come, then ``shifted`` rows with Age, Amount and Home shifted, and
    ``bad`` requests the server rejects (an Age that is not a number)."""
    _, _, x, y = credit_halves()
    first, later = x.iloc[:steady], x.iloc[steady:steady + shifted]
    wrong = records(x.iloc[:1])[0] | {"Age": "old"}
    return Traffic(bodies(first), bodies(shift(later)), np.asarray(y.iloc[:steady + shifted]).tolist(),
                   [{"dataframe_records": [wrong]}] * bad)
