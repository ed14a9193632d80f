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
from modelport.settings import Settings

ENGINES = ("local", "spark")


def resolve_model(ref: str) -> ModelSource:
    """The artifact folder a ref names (files re-checked on the way out of the store), unloaded:
    each worker loads it once."""
    with open_registry() as registry:
        found = registry.resolve(ref, verify=True)
    if found.version is None:
        return ModelSource(found.path)
    version = found.version
    return ModelSource(found.path, f"{version.name}:{version.version}", (version.name, str(version.version)))


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
    log_predictions: Annotated[bool, typer.Option(
        "--log-predictions/--no-log-predictions",
        help="record the scored rows in $MODELPORT_HOME/predictions, as the server does")] = True,
    log_sample_rate: Annotated[float, typer.Option(
        help="share of rows logged, chosen by the hash of each row's id")] = 1.0,
    log_exclude: Annotated[list[str] | None, typer.Option(
        help="an input column never logged (repeat or separate by commas)")] = None,
    log_hash: Annotated[list[str] | None, typer.Option(
        help="an input column logged as a salted sha256 (salt: $MODELPORT_LOG_SALT)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Score every row of INPUT into OUTPUT: Parquet parts, a rejects folder with the reason per
    row, and a journal that lets --resume finish a stopped run with every row exactly once.

    Scored rows also go to the prediction log (role ``batch``), each with the id
    ``<run_id>-<row>`` (``<run_id>-<id column value>`` with --id-column) that feedback joins by."""
    if engine not in ENGINES:
        raise typer.BadParameter(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}",
                                 param_hint="--engine")
    environment = Settings.from_env()
    try:
        config = BatchConfig(chunk_rows=chunk_rows, workers=workers or default_workers(),
                             id_column=id_column, keep_columns=_columns(keep_columns or []),
                             resume=resume, max_reject_rate=max_reject_rate,
                             allow_env_mismatch=allow_env_mismatch, engine=engine, master=master,
                             log_root=environment.predictions if log_predictions else None,
                             log_sample_rate=log_sample_rate, log_exclude=_columns(log_exclude or []),
                             log_hash=_columns(log_hash or []), log_salt=environment.log_salt)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    model = resolve_model(ref)
    with ProgressView(err_console) as view:
        summary = run_batch(model, source, output, config, on_progress=view)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        Console(soft_wrap=True).print(summary_line(summary), highlight=False)
