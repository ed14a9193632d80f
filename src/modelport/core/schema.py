"""The signature vocabulary: column kinds, column specs, and inference from a training sample."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from modelport.errors import Problem, SchemaError

#: object/string columns with at most this many distinct values are inferred as categories.
CATEGORY_MAX_LEVELS = 50


class ColumnKind(StrEnum):
    """What a raw column holds; decides which values validation accepts."""

    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    CATEGORY = "category"
    STRING = "string"
    DATETIME = "datetime"


@dataclass(frozen=True)
class ColumnSpec:
    """One raw input column as the model was trained on it."""

    name: str
    kind: ColumnKind
    nullable: bool = False
    dtype: str = ""
    minimum: float | None = None
    maximum: float | None = None
    levels: tuple[Any, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in (ColumnKind.FLOAT, ColumnKind.INT, ColumnKind.BOOL)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind.value, "nullable": self.nullable}
        if self.dtype:
            out["dtype"] = self.dtype
        if self.minimum is not None:
            out["minimum"] = self.minimum
            out["maximum"] = self.maximum
        if self.levels is not None:
            out["levels"] = list(self.levels)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        levels = data.get("levels")
        return cls(
            name=str(data["name"]),
            kind=ColumnKind(data["kind"]),
            nullable=bool(data.get("nullable", False)),
            dtype=str(data.get("dtype", "")),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            levels=tuple(levels) if levels is not None else None,
        )


@dataclass(frozen=True)
class OutputSpec:
    """One output of the model: predictions, or the probability of one class."""

    name: str
    kind: ColumnKind
    shape: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputSpec:
        return cls(str(data["name"]), ColumnKind(data["kind"]), tuple(data.get("shape", ())))


@dataclass(frozen=True)
class Signature:
    """The raw input columns, in order, and the outputs of a model."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[OutputSpec, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.inputs]

    @functools.cached_property
    def name_set(self) -> frozenset[str]:
        """The input names as a set, made once (decoders ask per request)."""
        return frozenset(c.name for c in self.inputs)

    @property
    def all_numeric(self) -> bool:
        return all(c.numeric for c in self.inputs)

    def column(self, name: str) -> ColumnSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> Signature:
        """Return a copy where the named columns take the given fields (kind, nullable, levels...)."""
        unknown = sorted(set(overrides) - set(self.names))
        if unknown:
            raise SchemaError([Problem(n, "override names a column the sample lacks") for n in unknown])
        specs = []
        for spec in self.inputs:
            change = dict(overrides.get(spec.name, {}))
            if "kind" in change:
                change["kind"] = ColumnKind(change["kind"])
            if "levels" in change and change["levels"] is not None:
                change["levels"] = tuple(change["levels"])
            specs.append(replace(spec, **change))
        return replace(self, inputs=tuple(specs))

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [o.to_dict() for o in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in data["inputs"]),
            tuple(OutputSpec.from_dict(o) for o in data.get("outputs", [])),
        )


def _plain(value: Any) -> Any:
    """Turn a numpy scalar into the Python value JSON can hold."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def infer_column(name: str, series: pd.Series) -> ColumnSpec:
    """Infer one column's spec from its values in the training sample."""
    nullable = bool(series.isna().any())
    dtype = str(series.dtype)
    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = tuple(_plain(v) for v in series.cat.categories)
        return ColumnSpec(name, ColumnKind.CATEGORY, nullable, dtype, levels=levels)
    if pd.api.types.is_bool_dtype(series.dtype):
        return ColumnSpec(name, ColumnKind.BOOL, nullable, dtype)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return ColumnSpec(name, ColumnKind.DATETIME, nullable, dtype)
    if pd.api.types.is_numeric_dtype(series.dtype):
        kind = ColumnKind.INT if pd.api.types.is_integer_dtype(series.dtype) else ColumnKind.FLOAT
        lo = float(present.min()) if len(present) else None
        hi = float(present.max()) if len(present) else None
        if lo is not None and (math.isinf(lo) or math.isnan(lo)):
            lo = hi = None
        return ColumnSpec(name, kind, nullable, dtype, minimum=lo, maximum=hi)
    values = present.tolist()
    if values and all(isinstance(v, bool) for v in values):
        return ColumnSpec(name, ColumnKind.BOOL, nullable, dtype)
    if not all(isinstance(v, str) for v in values):
        kinds = sorted({type(v).__name__ for v in values})
        raise SchemaError([Problem(name, f"mixed or unsupported value types {kinds}")])
    distinct = sorted(set(values))
    if len(distinct) <= CATEGORY_MAX_LEVELS:
        return ColumnSpec(name, ColumnKind.CATEGORY, nullable, dtype, levels=tuple(distinct))
    return ColumnSpec(name, ColumnKind.STRING, nullable, dtype)


def infer_signature(frame: pd.DataFrame) -> Signature:
    """Infer the input signature of a training sample (outputs are added by the packer)."""
    problems = [Problem(str(c), "column names must be strings") for c in frame.columns
                if not isinstance(c, str)]
    if frame.columns.duplicated().any():
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        problems += [Problem(d, "column appears more than once") for d in dupes]
    if problems:
        raise SchemaError(problems)
    return Signature(tuple(infer_column(str(c), frame[c]) for c in frame.columns))
