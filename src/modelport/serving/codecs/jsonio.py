"""JSON in and out of the hot path with msgspec; numpy and pandas scalars encode as plain values."""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

import msgspec
import numpy as np

from modelport.errors import ProtocolError

T = TypeVar("T")


def _enc_hook(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode(body: bytes) -> Any:
    """Parse any JSON document (NaN encodes as null); a malformed one is a ProtocolError."""
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed JSON body: {exc}") from exc


def decode_as(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Parse and structure-check a JSON body with a typed decoder; errors name the bad path."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid request: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed JSON body: {exc}") from exc
