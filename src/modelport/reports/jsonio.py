"""A report as JSON: the same numbers as the HTML, strict JSON (NaN and infinities become null)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelport.reports.results import MonitorReport


def plain(value: Any) -> Any:
    """``value`` with numpy scalars, timestamps, tuples and non-finite floats made plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value)


def report_dict(report: MonitorReport) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    data: dict[str, Any] = plain(report.to_dict())
    data["format"] = "modelport.monitor-report/1"
    return data


def render_json(report: MonitorReport, *, indent: int | None = 1) -> str:
    """The report as one JSON document (floats written so they read back exactly)."""
    return json.dumps(report_dict(report), indent=indent, allow_nan=False, ensure_ascii=False)
