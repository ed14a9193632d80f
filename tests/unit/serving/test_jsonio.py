"""JSON encoding on the hot path: numpy and dates become plain values; anything else is refused."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from modelport.errors import ProtocolError
from modelport.serving.codecs.jsonio import decode, encode


def test_numpy_and_dates_encode_as_plain_json() -> None:
    value = {"a": np.float32(1.5), "b": np.arange(3), "c": datetime.date(2026, 1, 2)}
    assert decode(encode(value)) == {"a": 1.5, "b": [0, 1, 2], "c": "2026-01-02"}


def test_unsupported_types_and_malformed_bodies_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot encode object as JSON"):
        encode({"x": object()})
    with pytest.raises(ProtocolError, match="malformed JSON body"):
        decode(b"{nope")
