"""The one table mapping domain errors to CLI exit codes, and the handler that applies it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from modelport import errors

P = ParamSpec("P")
R = TypeVar("R")

#: checked in order; the first matching class decides the exit code.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (errors.MissingDependencyError, 6),
    (errors.NotFoundError, 3),
    (errors.IntegrityError, 4),
    (errors.EnvironmentMismatchError, 4),
    (errors.GoldenCheckError, 4),
    (errors.UnsafeArtifactError, 4),
    (errors.RegistryUnavailableError, 5),
    (errors.ArchivedVersionError, 5),
    (errors.SchemaError, 2),
    (errors.RefError, 2),
    (errors.ArtifactFormatError, 2),
    (errors.FlavorError, 2),
    (errors.ConfigError, 2),
    (errors.DeployError, 7),
    (errors.AlertsFiredError, 8),
    (errors.InsufficientDataError, 11),
    (errors.RejectRateError, 10),
    (errors.BatchError, 9),
    (errors.ModelportError, 1),
)

err_console = Console(stderr=True, soft_wrap=True)


def exit_code(exc: BaseException) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return 1


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a modelport error as one clear line and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except errors.ModelportError as exc:
            err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", highlight=False)
            raise typer.Exit(exit_code(exc)) from exc

    return wrapper
