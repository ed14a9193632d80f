"""``modelport import mlflow``: bring models saved by other tools in as registered artifacts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelport.cli.errors import handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.cli.tables import read_table
from modelport.core.refs import check_name
from modelport.inference.mlflow_import import import_mlflow
from modelport.settings import Settings

import_app = typer.Typer(name="import", no_args_is_help=True,
                         help="Import models saved by other tools and register them.")
err_console = Console(stderr=True)


@import_app.command("mlflow")
@handle_errors
def mlflow_command(
    model_dir: Annotated[Path, typer.Argument(help="MLflow model folder (holds an MLmodel file)")],
    name: Annotated[str, typer.Option("--name", help="model name to register under")],
    sample: Annotated[Path | None, typer.Option(
        "--sample", help="input sample (csv, parquet, json, jsonl); default: the input example")] = None,
    trust_pickle: Annotated[bool, typer.Option(
        "--trust-pickle", help="load a pickled/cloudpickled model (runs code: trust its source)")] = False,
    allow_env_mismatch: Annotated[bool, typer.Option(
        "--allow-env-mismatch", help="import although scikit-learn's version differs")] = False,
    alias: Annotated[str | None, typer.Option("--alias", help="point this alias at it")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="why, kept in the history")] = None,
) -> None:
    """Turn an MLflow sklearn model folder into a verified artifact and register it."""
    check_name(name)
    frame = read_table(sample) if sample is not None else None
    home = Settings.from_env().home
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=home) as scratch:
        artifact = import_mlflow(model_dir, name=name, out=Path(scratch) / "artifact", sample=frame,
                                 trust_pickle=trust_pickle, allow_env_mismatch=allow_env_mismatch)
        err_console.print(f"imported {model_dir} ({artifact.manifest.task}), digest "
                          f"{artifact.digest}", highlight=False)
        with open_registry() as registry:
            version = registry.register(artifact.path, name=name, move=True, reason=reason)
            if alias is not None:
                registry.set_alias(name, alias, version.version, reason=reason)
    typer.echo(version.ref)
