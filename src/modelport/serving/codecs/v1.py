"""KServe v1: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out."""

from __future__ import annotations

from typing import Any

from modelport.errors import ProtocolError
from modelport.inference.model import Prediction
from modelport.serving.codecs import jsonio


def decode(body: bytes) -> Any:
    """Instances as records (objects) or rows (arrays of numbers); ``inputs`` is accepted too."""
    document = jsonio.decode(body)
    if not isinstance(document, dict):
        raise ProtocolError('expected a JSON object {"instances": [...]}')
    instances = document.get("instances", document.get("inputs"))
    if not isinstance(instances, list):
        raise ProtocolError('expected {"instances": [...]}: a list of records or rows')
    return instances


def encode(prediction: Prediction, ids: list[str] | None = None) -> bytes:
    """``{"predictions": [...]}``, with ``prediction_ids`` when the rows were logged."""
    body: dict[str, Any] = {"predictions": prediction.values.tolist()}
    if ids:
        body["prediction_ids"] = ids
    return jsonio.encode(body)
