"""``modelport feedback NAME FILE``: store delayed labels or outcomes and join them to logged predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from modelport.cli.errors import handle_errors
from modelport.errors import Problem, SchemaError
from modelport.predictions import FeedbackReceipt, FeedbackStore
from modelport.settings import Settings

READERS = {".csv": "CSV", ".parquet": "Parquet"}


def _read(path: Path, id_column: str) -> pd.DataFrame:
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise SchemaError([Problem(str(path), "must be a .csv or .parquet file")])
    try:
        if kind == "CSV":
            # ids stay text: "007" and "7" are different ids
            return pd.read_csv(path, dtype={id_column: str}, keep_default_na=True)
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SchemaError([Problem(str(path), f"cannot be read as {kind}: {exc}")]) from exc


def _columns(frame: pd.DataFrame, path: Path, id_column: str, label_column: str | None,
             outcome_column: str | None) -> dict[str, str]:
    """Map ``id``/``label``/``outcome`` to the file's columns, naming every one that is missing."""
    present = [str(c) for c in frame.columns]
    known = f"(columns in {path.name}: {', '.join(present) or 'none'})"
    if label_column is None and outcome_column is None:
        label_column = "label" if "label" in present else None
        outcome_column = "outcome" if "outcome" in present and label_column is None else None
        if label_column is None and outcome_column is None:
            raise SchemaError([Problem("label", "no label or outcome column: pass --label-column or "
                                       f"--outcome-column {known}")])
    chosen = {"id": id_column, "label": label_column, "outcome": outcome_column}
    problems = [Problem(column, f"no such column {known}") for column in chosen.values()
                if column is not None and column not in present]
    if problems:
        raise SchemaError(problems)
    return {role: column for role, column in chosen.items() if column is not None}


def _ids(values: pd.Series) -> list[object]:
    return [v if isinstance(v, str) or v is None or pd.isna(v) else str(v) for v in values]


def _file_field(field: str, columns: dict[str, str]) -> str:
    return " and ".join(columns.get(part, part) for part in field.split(" and "))


def _report(receipt: FeedbackReceipt) -> str:
    match = receipt.match
    text = (f"stored {receipt.stored} feedback rows for {receipt.model}: {match.joined} joined to "
            f"logged predictions, {match.sampled_out} sampled out by the log, {match.unknown} unknown")
    if match.examples:
        text += f" (e.g. {', '.join(match.examples)})"
    return text


@handle_errors
def feedback_command(
    name: Annotated[str, typer.Argument(help="the model name its predictions were logged under")],
    file: Annotated[Path, typer.Argument(help="a .csv or .parquet file: one row per prediction id",
                                         exists=True, dir_okay=False)],
    id_column: Annotated[str, typer.Option("--id-column", help="column of prediction ids")] = "id",
    label_column: Annotated[str | None, typer.Option(
        "--label-column", help="column of true labels (default: 'label' when the file has one)")] = None,
    outcome_column: Annotated[str | None, typer.Option(
        "--outcome-column", help="column of business outcomes (default: 'outcome' if present)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Store delayed labels or outcomes for NAME and say how many ids meet its prediction log."""
    frame = _read(file, id_column)
    columns = _columns(frame, file, id_column, label_column, outcome_column)
    store = FeedbackStore(Settings.from_env().predictions)
    try:
        receipt = store.add(name, _ids(frame[columns["id"]]),
                            labels=frame[columns["label"]] if "label" in columns else None,
                            outcomes=frame[columns["outcome"]] if "outcome" in columns else None)
    except SchemaError as exc:  # name the file's columns, not the store's
        raise SchemaError([Problem(_file_field(p.field, columns), p.problem, p.rows)
                           for p in exc.problems]) from exc
    if as_json:
        typer.echo(json.dumps(receipt.to_dict(), indent=2))
    else:
        typer.echo(_report(receipt))
