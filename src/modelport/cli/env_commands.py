"""``modelport env | dockerfile``: build the environment an artifact runs in, from its own lock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelport.cli.errors import handle_errors
from modelport.deploy.dockerfile import write_context
from modelport.deploy.environment import CHECKS, build_environment

console = Console()
err_console = Console(stderr=True)

SourceOption = Annotated[Path | None, typer.Option(
    "--modelport", help="modelport wheel or source folder to install (default: the running one)")]


@handle_errors
def env_command(
    artifact: Annotated[Path, typer.Argument(help="artifact folder or .tar")],
    directory: Annotated[Path, typer.Argument(help="folder for the new virtualenv")],
    python: Annotated[Path | None, typer.Option(help="interpreter for the virtualenv")] = None,
    modelport: SourceOption = None,
    force: Annotated[bool, typer.Option("--force", help="replace DIRECTORY if it is a virtualenv")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Build a virtualenv holding exactly the artifact's lock and verify the artifact inside it."""
    progress = (lambda message: None) if as_json else (
        lambda message: err_console.print(f"[dim]{message}…[/]", highlight=False))
    result = build_environment(artifact, directory, python=python, modelport_source=modelport,
                               overwrite=force, progress=progress)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        console.print(f"environment {result.directory}: python {result.python} "
                      f"(packed with {result.packed_python}), {result.packages} locked packages",
                      highlight=False)
        for key in CHECKS:
            value = str(result.checks.get(key, "unchecked"))
            colour = "green" if value == "ok" else "red"
            console.print(f"{key:8} [{colour}]{value}[/]", highlight=False)
        console.print("[bold green]verified in the environment[/]" if result.ok
                      else "[bold red]NOT verified in the environment[/]")
    if not result.ok:
        raise typer.Exit(4)


@handle_errors
def dockerfile_command(
    artifact: Annotated[Path, typer.Argument(help="artifact folder or .tar")],
    directory: Annotated[Path, typer.Argument(help="folder for the Dockerfile and build context")],
    modelport: SourceOption = None,
    base_image: Annotated[str | None, typer.Option(
        help="base image (default: python:VERSION-slim with the lock's Python)")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="replace DIRECTORY if modelport wrote it")] = False,
) -> None:
    """Write a Dockerfile and build context that install the lock and verify the artifact."""
    context = write_context(artifact, directory, modelport_source=modelport,
                            base_image=base_image, overwrite=force)
    console.print(f"wrote {context.directory / 'Dockerfile'} (FROM {context.base_image})",
                  highlight=False)
    console.print(f"build it with: docker build -t {context.tag} {context.directory}",
                  highlight=False)
