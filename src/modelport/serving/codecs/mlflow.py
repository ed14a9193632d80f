"""MLflow scoring: ``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs`` or CSV in;
``{"predictions": [...]}`` out."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from modelport.errors import Problem, ProtocolError, SchemaError
from modelport.inference.model import Prediction
from modelport.serving.codecs import jsonio

KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def decode(body: bytes, content_type: str) -> Any:
    """Raw input for validation from a JSON or ``text/csv`` body."""
    media = content_type.split(";")[0].strip().lower()
    if media == "text/csv":
        return _csv(body)
    if media not in ("", "application/json"):
        raise ProtocolError(f"unsupported content type {media!r}: send application/json or text/csv")
    document = jsonio.decode(body)
    keys = [k for k in KEYS if isinstance(document, dict) and k in document]
    if len(keys) != 1:
        raise ProtocolError(f"expected a JSON object with exactly one of {', '.join(KEYS)}")
    value = document[keys[0]]
    if keys[0] == "dataframe_split":
        return _split(value)
    if keys[0] == "inputs" and isinstance(value, dict):
        return value
    if not isinstance(value, list):
        raise ProtocolError(f"{keys[0]} must be a list")
    return value


def _split(value: Any) -> pd.DataFrame:
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list) or not isinstance(
            value.get("data"), list):
        raise ProtocolError('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
    columns, data = value["columns"], value["data"]
    width = len(columns)
    repeated = sorted({str(c) for c in columns if columns.count(c) > 1})
    if repeated:
        raise SchemaError([Problem(c, "column appears more than once") for c in repeated])
    if any(not isinstance(row, list) or len(row) != width for row in data):
        raise ProtocolError(f"dataframe_split: every row of data must hold {width} values")
    return pd.DataFrame({c: [row[i] for row in data] for i, c in enumerate(columns)}
                        if data else {c: [] for c in columns})


def _csv(body: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed CSV body: {exc}") from exc


def encode(prediction: Prediction, ids: list[str] | None = None) -> bytes:
    """``{"predictions": [...]}``, with ``prediction_ids`` when the rows were logged."""
    body: dict[str, Any] = {"predictions": prediction.values.tolist()}
    if ids:
        body["prediction_ids"] = ids
    return jsonio.encode(body)
