"""Check a raw frame against a signature, reporting every problem at once, then conform its dtypes.

Nothing is coerced silently: a value is accepted only when it already is what the column holds
(an integral float in an int column and an ISO-8601 string in a datetime column are the two lossless
readings allowed, because JSON cannot say otherwise). Values outside the training range are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from modelport.core.schema import ColumnKind, ColumnSpec, Signature
from modelport.errors import Problem, SchemaError

T = TypeVar("T")


@dataclass
class Validation:
    """The outcome of validating one frame: problems (errors), warnings and the rows at fault."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    bad_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise SchemaError(self.problems)


def _rows(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def out_of_range(spec: ColumnSpec, outside: np.ndarray) -> Problem:
    """The warning for the rows of ``spec``'s column that ``outside`` marks (one flag per row)."""
    return Problem(spec.name, f"outside the training range [{spec.minimum:g}, {spec.maximum:g}]",
                   _rows(outside))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)


def _is_integral(v: Any) -> bool:
    if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
        return True
    return isinstance(v, float | np.floating) and float(v).is_integer()


def _object_mask(values: pd.Series, accept: Callable[[Any], bool]) -> np.ndarray:
    return np.fromiter((not accept(v) for v in values), dtype=bool, count=len(values))


def _type_errors(spec: ColumnSpec, present: pd.Series) -> tuple[np.ndarray, str]:
    """Return a mask over ``present`` of values of the wrong type, and what was expected."""
    dtype = present.dtype
    none = np.zeros(len(present), dtype=bool)
    if spec.kind is ColumnKind.FLOAT:
        if pd.api.types.is_bool_dtype(dtype):
            return ~none, "expected a number, got booleans"
        if pd.api.types.is_numeric_dtype(dtype):
            return none, ""
        return _object_mask(present, _is_number), "expected a number"
    if spec.kind is ColumnKind.INT:
        if pd.api.types.is_bool_dtype(dtype):
            return ~none, "expected an integer, got booleans"
        if pd.api.types.is_integer_dtype(dtype):
            return none, ""
        if pd.api.types.is_float_dtype(dtype):
            arr = present.to_numpy(dtype=float)
            return ~np.isfinite(arr) | (np.floor(arr) != arr), "expected an integer"
        return _object_mask(present, _is_integral), "expected an integer"
    if spec.kind is ColumnKind.BOOL:
        if pd.api.types.is_bool_dtype(dtype):
            return none, ""
        return _object_mask(present, lambda v: isinstance(v, bool | np.bool_)), "expected true/false"
    if spec.kind is ColumnKind.STRING:
        return _object_mask(present, lambda v: isinstance(v, str)), "expected a string"
    if spec.kind is ColumnKind.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return none, ""
        parsed = pd.to_datetime(present, errors="coerce", format="ISO8601")
        return parsed.isna().to_numpy(), "expected a datetime (ISO-8601)"
    # category: membership in the known levels is the type check
    levels = set(spec.levels or ())
    values = present.astype(object) if isinstance(dtype, pd.CategoricalDtype) else present
    return _object_mask(values, lambda v: _hashable_in(v, levels)), "unknown category"


def _hashable_in(value: Any, levels: set[Any]) -> bool:
    try:
        return value in levels
    except TypeError:  # unhashable values (lists, dicts) are never a known level
        return False


def _describe(present: pd.Series, mask: np.ndarray) -> str:
    bad = present[mask]
    sample = bad.iloc[0]
    return f"{type(sample).__name__} {sample!r}"


def _check_column(spec: ColumnSpec, column: pd.Series, result: Validation) -> None:
    nulls = column.isna().to_numpy()
    if nulls.any() and not spec.nullable:
        result.problems.append(Problem(spec.name, "null where the column is not nullable",
                                       _rows(nulls)))
        result.bad_rows |= nulls
    present_mask = ~nulls
    present = column[present_mask]
    if len(present) == 0:
        return
    wrong, expected = _type_errors(spec, present)
    if wrong.any():
        full = np.zeros(len(column), dtype=bool)
        full[np.flatnonzero(present_mask)[wrong]] = True
        detail = f"{expected}, got {_describe(present, wrong)}"
        if spec.kind is ColumnKind.CATEGORY:
            detail = f"unknown category {present[wrong].iloc[0]!r} (known: {list(spec.levels or ())})"
        result.problems.append(Problem(spec.name, detail, _rows(full)))
        result.bad_rows |= full
        return
    if spec.minimum is not None and spec.maximum is not None and spec.kind in (
        ColumnKind.FLOAT, ColumnKind.INT
    ):
        values = pd.to_numeric(present).to_numpy(dtype=float)
        outside = (values < spec.minimum) | (values > spec.maximum)
        if outside.any():
            full = np.zeros(len(column), dtype=bool)
            full[np.flatnonzero(present_mask)[outside]] = True
            result.warnings.append(out_of_range(spec, full))


_NUMERIC_KINDS = (ColumnKind.FLOAT, ColumnKind.INT)


def _numeric_fast_path(frame: pd.DataFrame, signature: Signature) -> Validation | None:
    """Validate an all-numeric frame in a few numpy operations over one matrix.

    Serving validates every request, usually a row or a few, where per-column pandas work costs
    ~0.3 ms a column. This path answers only when the frame is clean (range warnings included);
    anything else returns None and the column-by-column path below reports the problems exactly.
    """
    if list(frame.columns) != signature.names or not _all_numeric(signature):
        return None
    for dtype in frame.dtypes:
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            return None
    return validate_matrix(frame.to_numpy(dtype=float, na_value=np.nan), signature)


class _PerSignature(Generic[T]):
    """What ``make`` derives from a signature, made once per signature object: serving asks per
    request, and looking a signature up by identity costs less than hashing the whole of it."""

    def __init__(self, make: Callable[[Signature], T]) -> None:
        self._make = make
        self._made: dict[int, tuple[Signature, T]] = {}

    def __call__(self, signature: Signature) -> T:
        hit = self._made.get(id(signature))
        if hit is not None and hit[0] is signature:
            return hit[1]
        if len(self._made) > 256:
            self._made.clear()
        value = self._make(signature)
        self._made[id(signature)] = (signature, value)
        return value


_all_numeric = _PerSignature(
    lambda signature: bool(signature.inputs) and all(s.kind in _NUMERIC_KINDS for s in signature.inputs))


def numeric_matrix(raw: Any, signature: Signature) -> np.ndarray | None:
    """``raw`` as a float matrix in signature column order, when it plainly is one; else None.

    Takes a 2-D numeric array with one column per input, or a mapping of exactly the input names
    to equally long 1-D numeric arrays (OIP v2 column inputs). Anything else, including booleans,
    is left to the frame path, which reports what is wrong with it.
    """
    if not _all_numeric(signature):
        return None
    width = len(signature.inputs)
    if isinstance(raw, np.ndarray):
        if raw.ndim == 2 and raw.shape[1] == width and _exact_as_float(raw):
            return raw.astype(np.float64, copy=False)
        return None
    if isinstance(raw, Mapping) and len(raw) == width:
        try:
            columns = [raw[name] for name in signature.names]
        except KeyError:
            return None
        if all(isinstance(c, np.ndarray) and c.ndim == 1 and _exact_as_float(c) for c in columns) \
                and len({len(c) for c in columns}) == 1:
            return np.column_stack(columns).astype(np.float64, copy=False)
    return None


def _exact_as_float(array: np.ndarray) -> bool:
    """Numeric, and every value survives the trip through float64 (ints beyond 2**53 do not)."""
    if array.dtype.kind == "f":
        return True
    return array.dtype.kind in "iu" and (array.size == 0 or int(np.abs(array).max()) <= 2**53)


@dataclass(frozen=True)
class _Bounds:
    """Per-column facts of an all-numeric signature as arrays, computed once per signature."""

    required: np.ndarray
    whole: np.ndarray
    low: np.ndarray
    high: np.ndarray
    any_required: bool
    any_whole: bool
    #: ``low`` and ``high`` with -inf and +inf for no bound: a row of numbers passes both
    #: comparisons exactly when it is in range, and a NaN fails them
    floor: np.ndarray
    ceiling: np.ndarray


def _compute_bounds(signature: Signature) -> _Bounds:
    specs = signature.inputs
    required = np.array([not s.nullable for s in specs], dtype=bool)
    whole = np.array([s.kind is ColumnKind.INT for s in specs], dtype=bool)
    low = np.array([np.nan if s.minimum is None else s.minimum for s in specs], dtype=float)
    high = np.array([np.nan if s.maximum is None else s.maximum for s in specs], dtype=float)
    return _Bounds(required, whole, low, high, bool(required.any()), bool(whole.any()),
                   np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high))


_bounds = _PerSignature(_compute_bounds)


def validate_matrix(values: np.ndarray, signature: Signature) -> Validation | None:
    """Validate a float matrix (columns in signature order) of an all-numeric signature.

    Returns None when a value is null where not allowed or fractional in an int column; the frame
    path then names the problem. Range warnings are reported here.
    """
    specs = signature.inputs
    bounds = _bounds(signature)
    # comparisons with NaN are False without a warning, so no np.errstate (it costs more than the checks)
    if not bounds.any_whole and ((values >= bounds.floor) & (values <= bounds.ceiling)).all():
        return Validation(bad_rows=np.zeros(len(values), dtype=bool))  # the common case, in 4 calls
    if bounds.any_required and (np.isnan(values) & bounds.required).any():
        return None
    if bounds.any_whole:
        ints = values[:, bounds.whole]
        if (~np.isnan(ints) & (~np.isfinite(ints) | (np.floor(ints) != ints))).any():
            return None
    outside = (values < bounds.low) | (values > bounds.high)
    result = Validation(bad_rows=np.zeros(len(values), dtype=bool))
    for j in np.flatnonzero(outside.any(axis=0)):
        spec = specs[j]
        result.warnings.append(out_of_range(spec, outside[:, j]))
    return result


#: a matrix frame's column index (building it from the names costs more than the rest of a one-row
#: frame) and the specs whose dtype is not float64
_frame_parts = _PerSignature(lambda signature: (
    pd.Index(signature.names),
    tuple(spec for spec in signature.inputs if spec.dtype and spec.dtype != "float64")))


def matrix_frame(values: np.ndarray, signature: Signature) -> pd.DataFrame:
    """The conformed frame of a validated float matrix: what ``conform`` makes of the same rows."""
    columns, other = _frame_parts(signature)
    frame = pd.DataFrame(values, columns=columns, copy=False)
    for spec in other:
        frame[spec.name] = _conform_column(spec, frame[spec.name])
    return frame


def validate(frame: pd.DataFrame, signature: Signature) -> Validation:
    """Check every column of ``frame``; never raises, never changes the frame."""
    fast = _numeric_fast_path(frame, signature)
    if fast is not None:
        return fast
    result = Validation(bad_rows=np.zeros(len(frame), dtype=bool))
    expected = signature.names
    present = [str(c) for c in frame.columns]
    for name in expected:
        if name not in present:
            result.problems.append(Problem(name, "missing column"))
    for name in present:
        if name not in expected:
            result.problems.append(Problem(name, "unexpected column"))
    if any(p.problem == "missing column" for p in result.problems):
        result.bad_rows[:] = True
    for spec in signature.inputs:
        if spec.name in present:
            _check_column(spec, frame[spec.name], result)
    return result


def _odd_missing(column: pd.Series) -> np.ndarray | None:
    """Where an object column holds a missing value other than NaN (None, pd.NA, NaT); None if nowhere."""
    if column.dtype != object:
        return None
    missing = column.isna().to_numpy()
    if not missing.any():
        return None
    odd = missing & np.fromiter((not isinstance(v, float) for v in column.to_numpy()), dtype=bool,
                                count=len(column))
    return odd if odd.any() else None


def _missing_as_nan(column: pd.Series) -> pd.Series:
    """An object column with every missing value as NaN, so a JSON null, ``None`` and NaN reach the model
    as one value: scikit-learn's imputers treat only NaN as missing (a None passes them and becomes an
    unknown category), and NaN is what pandas reads a CSV's empty cell as."""
    odd = _odd_missing(column)
    if odd is None:
        return column
    values = column.to_numpy(dtype=object, copy=True)
    values[odd] = np.nan
    return pd.Series(values, index=column.index, name=column.name, dtype=object)


def _conform_column(spec: ColumnSpec, column: pd.Series) -> pd.Series:
    column = _missing_as_nan(column)
    if spec.kind is ColumnKind.CATEGORY and spec.dtype == "category":
        return pd.Series(pd.Categorical(column, categories=list(spec.levels or ())),
                         index=column.index, name=column.name)
    if spec.kind is ColumnKind.DATETIME:
        return pd.to_datetime(column, format="ISO8601")
    target = spec.dtype or None
    if target is None or str(column.dtype) == target:
        return column
    if column.isna().any() and target.startswith(("int", "uint")):
        return column.astype("float64")
    try:
        return column.astype(target)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return column


def _conformed_already(frame: pd.DataFrame, signature: Signature) -> bool:
    index = frame.index
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and list(frame.columns) == signature.names
            and all(str(dtype) == spec.dtype and spec.kind is not ColumnKind.DATETIME
                    for dtype, spec in zip(frame.dtypes, signature.inputs, strict=True))
            and not any(_odd_missing(frame[spec.name]) is not None for spec in signature.inputs
                        if spec.nullable))


def conform(frame: pd.DataFrame, signature: Signature) -> pd.DataFrame:
    """Return a frame in signature order with the training dtypes; call only after validate.

    A frame that already is so (the common case for DataFrame callers) is returned as it is.
    """
    if _conformed_already(frame, signature):
        return frame
    frame = frame.reset_index(drop=True)
    data = {spec.name: _conform_column(spec, frame[spec.name]) for spec in signature.inputs}
    return pd.DataFrame(data, index=pd.RangeIndex(len(frame)))


def check(frame: pd.DataFrame, signature: Signature) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate (raising SchemaError with every problem) and conform; return frame and warnings."""
    result = validate(frame, signature)
    result.raise_for_problems()
    return conform(frame, signature), result.warnings
