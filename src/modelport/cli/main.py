"""The ``modelport`` command: every command group registered on one typer app."""

from __future__ import annotations

import logging

import typer

from modelport.cli import (
    artifact_commands,
    batch_commands,
    env_commands,
    feedback_commands,
    import_commands,
    monitor_commands,
    registry_commands,
    rollout_commands,
    rollout_report_commands,
    serve_commands,
)

app = typer.Typer(name="modelport", no_args_is_help=True, add_completion=False,
                  help="Pack, register, serve and monitor machine-learning models.")
app.command("pack")(artifact_commands.pack_command)
app.command("inspect")(artifact_commands.inspect_command)
app.command("verify")(artifact_commands.verify_command)
app.command("predict")(artifact_commands.predict_command)
app.add_typer(registry_commands.models_app)
app.add_typer(registry_commands.alias_app)
app.command("history")(registry_commands.history_command)
app.command("rollback")(registry_commands.rollback_command)
app.command("archive")(registry_commands.archive_command)
app.add_typer(import_commands.import_app)
app.command("env")(env_commands.env_command)
app.command("dockerfile")(env_commands.dockerfile_command)
app.command("feedback")(feedback_commands.feedback_command)
app.command("serve")(serve_commands.serve_command(serve_commands.resolve_ref))
app.add_typer(monitor_commands.monitor_app(monitor_commands.read_log, monitor_commands.read_resource_log))
app.command("batch")(batch_commands.batch_command)
# the rollout group: server actions (rollout_commands) and reports read from the log (rollout_report_commands)
rollout_report_commands.register(rollout_commands.rollout_app)
app.add_typer(rollout_commands.rollout_app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
