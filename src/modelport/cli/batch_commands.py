"""``modelport batch``: score a large file, folder or glob with a model, resumably, on an engine.

REF names the model as ``modelport serve`` takes it: a registry ref (``name@production``,
``name:3``, a digest) or a path to an artifact folder or ``.tar``. With ``--schedule CRON`` the
command runs nothing: it prints (or writes, ``--schedule-out``) a Kubernetes CronJob that runs the
same command, resumably, in the image ``modelport dockerfile`` builds for the artifact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelport.batch.job import BatchConfig, ModelSource, run_batch
from modelport.cli.batch_progress import ProgressView, summary_line
from modelport.cli.errors import err_console, handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.core.refs import RefKind, parse_ref
from modelport.deploy.cronjob import (
    KUBERNETES_VERSION,
    CronJobSpec,
    Volume,
    batch_args,
    cronjob,
    job_name,
    to_yaml,
    validate,
)
from modelport.deploy.dockerfile import IMAGE_ARTIFACT, image_tag
from modelport.engines.local import default_workers
from modelport.errors import NotFoundError
from modelport.inference.load import verify
from modelport.settings import Settings

ENGINES = ("local", "spark")


def resolve_model(ref: str) -> ModelSource:
    """The artifact folder a ref names (files re-checked on the way out of the store), unloaded:
    the workers load it once. A path needs no registry (nor its database's import)."""
    if parse_ref(ref).kind is RefKind.PATH:
        path = Path(ref).expanduser()
        if not path.exists():
            raise NotFoundError(f"no artifact folder or .tar at {path}")
        return ModelSource(path)
    with open_registry() as registry:
        found = registry.resolve(ref, verify=True)
    if found.version is None:
        return ModelSource(found.path)
    version = found.version
    return ModelSource(found.path, f"{version.name}:{version.version}", (version.name, str(version.version)))


def _named(model: ModelSource, model_version: str | None) -> ModelSource:
    """The model as ``--model-version NAME:VERSION`` names it in the output and the log."""
    if model_version is None:
        return model
    name, colon, version = model_version.partition(":")
    if not (name and colon and version):
        raise typer.BadParameter(f"{model_version!r} is not NAME:VERSION", param_hint="--model-version")
    return ModelSource(model.path, model_version, (name, version))


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
    model_version: Annotated[str | None, typer.Option(
        help="NAME:VERSION the output and the log call the model (default: the registry's "
             "name:version, or name@digest for a path)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    schedule: Annotated[str | None, typer.Option(
        help="print a Kubernetes CronJob running this command on a cron schedule ('0 2 * * *') "
             "instead of running it", rich_help_panel="Scheduling")] = None,
    schedule_out: Annotated[Path | None, typer.Option(
        help="write the CronJob to this file instead of printing it", rich_help_panel="Scheduling")] = None,
    image: Annotated[str | None, typer.Option(
        help="container image holding the artifact at /artifact (default: the tag `modelport "
             "dockerfile` gives it, under $MODELPORT_IMAGE_REGISTRY)", rich_help_panel="Scheduling")] = None,
    namespace: Annotated[str | None, typer.Option(help="the CronJob's namespace",
                                                  rich_help_panel="Scheduling")] = None,
    volume: Annotated[list[str] | None, typer.Option(
        help="CLAIM:/PATH: a PersistentVolumeClaim mounted where INPUT and OUTPUT live (repeat)",
        rich_help_panel="Scheduling")] = None,
    env: Annotated[list[str] | None, typer.Option(
        help="KEY=VALUE set in the container, e.g. MODELPORT_HOME=/data/modelport (repeat)",
        rich_help_panel="Scheduling")] = None,
    time_zone: Annotated[str | None, typer.Option(
        help="time zone of the schedule (e.g. Europe/Paris; default: the cluster's, UTC)",
        rich_help_panel="Scheduling")] = None,
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
    model = _named(resolve_model(ref), model_version)
    if schedule is not None:
        forwarded = _forwarded(engine=engine, master=master, workers=workers, chunk_rows=chunk_rows,
                               id_column=id_column, keep_columns=config.keep_columns, max_reject_rate=
                               max_reject_rate, allow_env_mismatch=allow_env_mismatch,
                               log_predictions=log_predictions, log_sample_rate=log_sample_rate,
                               log_exclude=config.log_exclude, log_hash=config.log_hash,
                               model_version=model.version if model.logged_as else None, as_json=as_json)
        spec = ScheduleSpec(schedule, image, environment.image_registry, namespace, tuple(volume or ()),
                            tuple(env or ()), time_zone, workers)
        _schedule(model, source, str(output), forwarded, spec, schedule_out)
        return
    with ProgressView(err_console) as view:
        summary = run_batch(model, source, output, config, on_progress=view)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        Console(soft_wrap=True).print(summary_line(summary), highlight=False)


def _forwarded(*, engine: str, master: str, workers: int | None, chunk_rows: int, id_column: str | None,
               keep_columns: tuple[str, ...], max_reject_rate: float, allow_env_mismatch: bool,
               log_predictions: bool, log_sample_rate: float, log_exclude: tuple[str, ...],
               log_hash: tuple[str, ...], model_version: str | None, as_json: bool) -> list[str]:
    """The options of this command, as the scheduled command repeats them."""
    options = ["--engine", engine, "--chunk-rows", str(chunk_rows), "--max-reject-rate", str(max_reject_rate)]
    if engine == "spark":
        options += ["--master", master]
    if workers is not None:
        options += ["--workers", str(workers)]
    if id_column:
        options += ["--id-column", id_column]
    if keep_columns:
        options += ["--keep-columns", ",".join(keep_columns)]
    if allow_env_mismatch:
        options.append("--allow-env-mismatch")
    if not log_predictions:
        options.append("--no-log-predictions")
    else:
        options += ["--log-sample-rate", str(log_sample_rate)]
        options += [f"--log-exclude={c}" for c in log_exclude] + [f"--log-hash={c}" for c in log_hash]
    if model_version:
        options += ["--model-version", model_version]
    if as_json:
        options.append("--json")
    return options


@dataclass(frozen=True)
class ScheduleSpec:
    """The scheduling options of ``modelport batch --schedule``."""

    schedule: str
    image: str | None
    registry: str
    namespace: str | None
    volumes: tuple[str, ...]
    env: tuple[str, ...]
    time_zone: str | None
    workers: int | None


def _pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        key, equals, text = value.partition("=")
        if not (key and equals):
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--env")
        pairs.append((key, text))
    return tuple(pairs)


def _schedule(model: ModelSource, source: str, output: str, options: list[str], spec: ScheduleSpec,
              out: Path | None) -> None:
    """Print or write the CronJob that runs the batch on ``spec.schedule``, checked offline."""
    verified = verify(model.path, allow_env_mismatch=True)
    name = verified.manifest.name
    image = spec.image or image_tag(name, verified.digest)
    if spec.image is None and spec.registry:
        image = f"{spec.registry}/{image}"
    manifest = cronjob(CronJobSpec(
        name=job_name(name), schedule=spec.schedule, image=image,
        args=batch_args(IMAGE_ARTIFACT, source, output, options), namespace=spec.namespace,
        time_zone=spec.time_zone, volumes=tuple(Volume.parse(v) for v in spec.volumes),
        env=_pairs(spec.env), cpu=spec.workers))
    validate(manifest)
    text = to_yaml(manifest)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        err_console.print(f"wrote the CronJob {manifest['metadata']['name']} to {out} (checked against "
                          f"Kubernetes {KUBERNETES_VERSION}); apply it with: kubectl apply -f {out}",
                          highlight=False)
