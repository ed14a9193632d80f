"""The ``modelport`` command: every command group registered on one typer app."""

from __future__ import annotations

import logging

import typer

from modelport.cli import artifact_commands, serve_commands

app = typer.Typer(name="modelport", no_args_is_help=True, add_completion=False,
                  help="Pack, register, serve and monitor machine-learning models.")
app.command("pack")(artifact_commands.pack_command)
app.command("inspect")(artifact_commands.inspect_command)
app.command("verify")(artifact_commands.verify_command)
app.command("predict")(artifact_commands.predict_command)
app.command("serve")(serve_commands.serve_command(serve_commands.resolve_path))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
