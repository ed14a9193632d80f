"""What the log keeps of a prediction: which rows (sampling by id), which inputs, and in what form.

Sampling is decided by a hash of the id, not by a random draw, so anyone holding an id and the rate
can tell whether it was logged: feedback for a sampled-out id is recognised as such rather than
reported as unknown. Hashed input columns are stored as the sha256 hex digest of the log's salt
followed by the value's text, so equal values stay equal (counts, drift on categories) while the
values themselves are not stored; without a salt, short values can be recovered by trying them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

_SCALE = float(2**64)


def id_fraction(prediction_id: str) -> float:
    """Where an id falls in [0, 1): the first 8 bytes of its sha256, as a fraction."""
    digest = hashlib.sha256(prediction_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def sampled_in(prediction_id: str, rate: float) -> bool:
    """Whether a log sampling at ``rate`` keeps the prediction with this id."""
    return rate >= 1.0 or (rate > 0.0 and id_fraction(prediction_id) < rate)


def sample_mask(ids: Sequence[str], rate: float) -> np.ndarray:
    """A boolean mask over ``ids``: True where the row is kept."""
    if rate >= 1.0:
        return np.ones(len(ids), dtype=bool)
    return np.fromiter((sampled_in(i, rate) for i in ids), dtype=bool, count=len(ids))


def hash_values(values: Sequence[Any] | np.ndarray | pd.Series, salt: str) -> np.ndarray:
    """Salted sha256 hex digests of ``values`` (their text); missing values stay missing."""
    prefix = salt.encode()
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None or (not isinstance(value, str) and _missing(value)):
            out[i] = None
        else:
            out[i] = hashlib.sha256(prefix + str(value).encode()).hexdigest()
    return out


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array value is not "missing"
        return False


@dataclass(frozen=True)
class Privacy:
    """Input columns to leave out of the log, and input columns to store only as salted hashes."""

    exclude: frozenset[str] = frozenset()
    hashed: frozenset[str] = frozenset()
    salt: str = ""

    def keeps(self, column: str) -> bool:
        return column not in self.exclude

    def apply(self, column: str, values: list[Any] | np.ndarray) -> list[Any] | np.ndarray:
        """The values stored for an input column: as they are, or hashed."""
        return hash_values(values, self.salt) if column in self.hashed else values
