"""The shape of a logged prediction: a columnar batch per request in, one record per row out.

The server hands the log one :class:`PredictionBatch` per request (n rows at once: the request-level
fields once, the inputs as a frame or matrix, the predictions as arrays); the log stores one row per
prediction with the columns named below, and :class:`PredictionRecord` reads one back.

Ids: every row gets its own id. Unless the caller passes ``ids`` (one per row, any non-empty
strings: a client's own request ids, say), the log draws a fresh uuid4 for each row, written as 32
lowercase hex digits; ``PredictionLog.submit`` returns the ids in row order so the server can send
them back. A caller's request-level id is not reused for row 0: ids stay unique per row.
"""

from __future__ import annotations

import os
import threading
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

#: the columns every segment holds, in this order, before the inputs and outputs
BASE_COLUMNS = ("id", "time", "endpoint", "model", "version", "role", "protocol", "status",
                "latency_ms", "sample_rate")
#: prefix of the stored raw input columns: ``input.<column>``
INPUT_PREFIX = "input."
#: the predicted value (class label or number)
PREDICTION = "prediction"
#: prefix of the class-probability columns: ``proba.<label>``
PROBA_PREFIX = "proba."
#: a shadow row's link to the primary prediction whose request it copied (absent otherwise)
PRIMARY_ID = "primary_id"

#: what a batch's inputs may be: a frame, a 2-D matrix with ``columns``, columns of equal length
#: (or of one value each: one row), or a list of records
Inputs = pd.DataFrame | np.ndarray | Mapping[str, Any] | Sequence[Mapping[str, Any]]


class Role(StrEnum):
    """Why a version answered: the primary, a canary, a shadow copy, an A/B arm, or batch scoring."""

    PRIMARY = "primary"
    CANARY = "canary"
    SHADOW = "shadow"
    ARM = "arm"
    BATCH = "batch"


def _draw(n: int) -> list[str]:
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.tobytes().hex()
    return [text[i:i + 32] for i in range(0, 32 * n, 32)]


#: how many ids one draw makes ahead (one random read of 64 KiB)
POOL_IDS = 4096


class _IdPool:
    """Ids drawn ahead, handed out a request's or a model call's worth at a time.

    Drawing costs about 6 µs plus 0.1 µs an id; drawing 4,096 at once and slicing them off takes a
    64-row model call's ids from 0.42 to about 0.1 µs a row. Emptied in a forked child (with a new
    lock, in case the fork caught another thread holding it), so two worker processes never hand
    out the same ids.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self.ids = []
        self.lock = threading.Lock()

    def take(self, n: int) -> list[str]:
        if n > POOL_IDS:
            return _draw(n)
        with self.lock:
            ids = self.ids
            if len(ids) < n:
                ids.extend(_draw(POOL_IDS))
            taken = ids[-n:]
            del ids[-n:]
        return taken


_pool = _IdPool()


def new_ids(n: int) -> list[str]:
    """``n`` fresh uuid4 ids as 32 lowercase hex digits."""
    return _pool.take(n) if n > 0 else []


def now_us() -> int:
    """The current time as integer microseconds since the Unix epoch (UTC)."""
    return _time.time_ns() // 1000


def to_us(moment: datetime) -> int:
    """A datetime as microseconds since the epoch; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(slots=True)
class PredictionBatch:
    """One request's predictions, columnar: request-level fields once, then n rows of inputs and outputs.

    ``inputs``: a DataFrame, a 2-D matrix whose column names are ``columns``, or a mapping of column
    name to n values; None when the request never got as far as decoding (then ``rows`` says how
    many records to log, default 1). ``predictions``: n values; ``probabilities``: an (n, k) matrix
    whose columns are the class ``labels``. The log takes the batch and its arrays as they are,
    without copying: do not change them after submitting (the class is not frozen only because a
    frozen dataclass costs the request path two microseconds more to build).

    The cheapest inputs to log are the decoded request body itself: the records of a KServe v1 or
    MLflow body, the column arrays of an OIP v2 body, or the float matrix serving validates an
    all-numeric request into; a DataFrame costs the writer a pandas call per request (see
    ``bench/prediction_log_costs.py``). Records must be mappings; a body of bare rows is logged as the
    matrix it validates into.
    """

    endpoint: str
    model: str
    version: str
    inputs: Inputs | None
    predictions: Sequence[Any] | np.ndarray | None = None
    probabilities: np.ndarray | None = None
    labels: Sequence[Any] | None = None
    columns: Sequence[str] | None = None
    role: str = Role.PRIMARY
    protocol: str = ""
    status: int = 200
    #: the request's latency, or one per row (a model call's requests logged as one batch)
    latency_ms: float | np.ndarray = 0.0
    ids: Sequence[str] | None = None
    #: when the prediction was made; None: when it is submitted
    time: datetime | None = None
    #: how many records a batch without inputs stands for
    rows: int = 1
    #: for a shadow's copy: the id of the primary prediction of each row (column ``primary_id``)
    primary_ids: Sequence[str] | None = None

    def __len__(self) -> int:
        inputs = self.inputs
        if inputs is None:
            return len(self.predictions) if self.predictions is not None else self.rows
        if isinstance(inputs, Mapping):
            for values in inputs.values():
                return len(values) if isinstance(values, list | tuple | np.ndarray | pd.Series) else 1
            return self.rows
        return len(inputs)


@dataclass(frozen=True)
class PredictionRecord:
    """One logged prediction, as read back: what a row of ``read_predictions`` holds."""

    id: str
    time: datetime
    endpoint: str
    model: str
    version: str
    role: str
    protocol: str
    status: int
    latency_ms: float
    #: raw input column → value
    inputs: dict[str, Any] = field(default_factory=dict)
    #: the predicted value; None for a request that failed
    prediction: Any = None
    #: class label (as text) → probability; empty for regressors
    probabilities: dict[str, float] = field(default_factory=dict)
    sample_rate: float = 1.0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PredictionRecord:
        """Rebuild a record from one row of a log frame (``input.*`` and ``proba.*`` columns folded)."""
        inputs = {k[len(INPUT_PREFIX):]: _plain(v) for k, v in row.items() if k.startswith(INPUT_PREFIX)}
        proba = {k[len(PROBA_PREFIX):]: float(v) for k, v in row.items()
                 if k.startswith(PROBA_PREFIX) and not pd.isna(v)}
        moment = row["time"]
        return cls(
            id=str(row["id"]), time=pd.Timestamp(moment).to_pydatetime(), endpoint=str(row["endpoint"]),
            model=str(row["model"]), version=str(row["version"]), role=str(row["role"]),
            protocol=str(row["protocol"]), status=int(row["status"]), latency_ms=float(row["latency_ms"]),
            inputs=inputs, prediction=_plain(row.get(PREDICTION)), probabilities=proba,
            sample_rate=float(row.get("sample_rate", 1.0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time.isoformat(), "endpoint": self.endpoint,
                "model": self.model, "version": self.version, "role": self.role,
                "protocol": self.protocol, "status": self.status, "latency_ms": self.latency_ms,
                "inputs": self.inputs, "prediction": self.prediction,
                "probabilities": self.probabilities, "sample_rate": self.sample_rate}


def _plain(value: Any) -> Any:
    """A scalar as a plain Python value; missing values (None, NaN, NA) as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) else value
