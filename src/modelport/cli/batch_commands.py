"""``modelport batch``: score a large file, folder or glob with a model, resumably, on an engine.

REF names the model as ``modelport serve`` takes it: a registry ref (``name@production``,
``name:3``, a digest) or a path to an artifact folder or ``.tar``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelport.batch.job import BatchConfig, ModelSource, run_batch
from modelport.cli.batch_progress import ProgressView, summary_line
from modelport.cli.errors import err_console, handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.engines.local import default_workers

ENGINES = ("local", "spark")


def resolve_model(ref: str) -> ModelSource:
    """The artifact folder a ref names (files re-checked on the way out of the store), unloaded:
    each worker loads it once."""
    with open_registry() as registry:
        found = registry.resolve(ref, verify=True)
    if found.version is None:
        return ModelSource(found.path)
    return ModelSource(found.path, f"{found.version.name}:{found.version.version}")


def _columns(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for v in values for c in v.split(",") if c.strip()))


@handle_errors
def batch_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="registry ref or artifact path")],
    source: Annotated[str, typer.Argument(metavar="INPUT",
                                          help="CSV, Parquet or JSON-lines file, folder or glob")],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="folder for the Parquet parts")],
    engine: Annotated[str, typer.Option(help="where to run: local (worker processes) or spark")] = "local",
    master: Annotated[str, typer.Option(help="Spark master URL, for --engine spark")] = "local[*]",
    workers: Annotated[int | None, typer.Option(help="worker processes (default: the cores)")] = None,
    chunk_rows: Annotated[int, typer.Option(
        help="rows per chunk; memory grows with it, not with the input")] = 50_000,
    id_column: Annotated[str | None, typer.Option(help="input column identifying a row "
                                                       "(default: the row number)")] = None,
    keep_columns: Annotated[list[str] | None, typer.Option(
        help="input columns copied to the output (repeat or separate by commas)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in OUTPUT")] = False,
    max_reject_rate: Annotated[float, typer.Option(
        help="fail when more than this share of rows is rejected")] = 0.01,
    allow_env_mismatch: Annotated[bool, typer.Option(
        "--allow-env-mismatch", help="score with a model packed with other framework versions")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Score every row of INPUT into OUTPUT: Parquet parts, a rejects folder with the reason per
    row, and a journal that lets --resume finish a stopped run with every row exactly once."""
    if engine not in ENGINES:
        raise typer.BadParameter(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}",
                                 param_hint="--engine")
    try:
        config = BatchConfig(chunk_rows=chunk_rows, workers=workers or default_workers(),
                             id_column=id_column, keep_columns=_columns(keep_columns or []),
                             resume=resume, max_reject_rate=max_reject_rate,
                             allow_env_mismatch=allow_env_mismatch, engine=engine, master=master)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    model = resolve_model(ref)
    with ProgressView(err_console) as view:
        summary = run_batch(model, source, output, config, on_progress=view)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        Console(soft_wrap=True).print(summary_line(summary), highlight=False)
