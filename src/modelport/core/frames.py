"""Turn every accepted form of raw input into one pandas DataFrame, without guessing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelport.core.schema import Signature
from modelport.errors import Problem, SchemaError

#: what callers may hand to ``predict``: a DataFrame, records, columns, or a numeric matrix.
RawInput = pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any] | np.ndarray


def _from_array(array: np.ndarray, signature: Signature) -> pd.DataFrame:
    if not signature.all_numeric:
        raise SchemaError([Problem("<input>", "a numpy array is accepted only when every input "
                                   "column is numeric; send named columns instead")])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise SchemaError([Problem("<input>", f"expected a 2-D array, got {array.ndim} dimensions")])
    if array.shape[1] != len(signature.inputs):
        raise SchemaError([Problem("<input>", f"expected {len(signature.inputs)} columns "
                                   f"({', '.join(signature.names)}), got {array.shape[1]}")])
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise SchemaError([Problem("<input>", f"expected a numeric array, got dtype {array.dtype}")])
    return pd.DataFrame(array, columns=signature.names)


def _from_columns(columns: Mapping[str, Any]) -> pd.DataFrame:
    listlike = {k: isinstance(v, list | tuple | np.ndarray | pd.Series) for k, v in columns.items()}
    if not any(listlike.values()):
        return pd.DataFrame([dict(columns)])
    if not all(listlike.values()):
        scalars = sorted(k for k, is_list in listlike.items() if not is_list)
        raise SchemaError([Problem(k, "mixes a single value with column lists") for k in scalars])
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise SchemaError([Problem(k, f"column has {n} values, others differ")
                           for k, n in sorted(lengths.items())])
    return pd.DataFrame({k: list(v) if isinstance(v, tuple) else v for k, v in columns.items()})


def _from_records(records: Sequence[Any], signature: Signature) -> pd.DataFrame:
    if all(isinstance(r, Mapping) for r in records):
        return pd.DataFrame.from_records(list(records))
    if all(isinstance(r, list | tuple) for r in records):
        return _from_array(np.asarray(records), signature)
    raise SchemaError([Problem("<input>", "a list must hold records (dicts) or rows of numbers")])


def to_frame(raw: Any, signature: Signature) -> pd.DataFrame:
    """Return ``raw`` as a DataFrame; raise SchemaError for a form that is not accepted."""
    if isinstance(raw, pd.DataFrame):
        return raw
    if isinstance(raw, np.ndarray):
        return _from_array(raw, signature)
    if isinstance(raw, Mapping):
        return _from_columns(raw)
    if isinstance(raw, list | tuple):
        if not raw:
            return pd.DataFrame({name: [] for name in signature.names})
        return _from_records(raw, signature)
    to_pandas = getattr(raw, "to_pandas", None)
    if callable(to_pandas):  # pyarrow Table / RecordBatch
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise SchemaError([Problem("<input>", f"unsupported input type {type(raw).__name__}; send a "
                               "DataFrame, a list of records, a dict of columns or a numpy array")])
