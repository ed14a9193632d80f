"""``modelport serve``: resolve model references, then run the online server in one or N processes.

References go through a resolver the composition root passes in: ``resolve_ref`` resolves through
the registry (``name@production``, ``name:3``, a digest) or takes a path to an artifact, and checks
digests and the dependency lock before any worker starts. Settings come from the command line, then
a ``--config`` YAML file, then the defaults of :class:`ServerConfig`, in that order.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from modelport.cli.errors import handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.errors import ConfigError
from modelport.inference.load import load, verify
from modelport.rollout.plan import EndpointPlan, parse_plan
from modelport.serving.config import LogConfig, ServerConfig
from modelport.serving.extensions import ExtensionSpec, build_extensions
from modelport.serving.workers import ModelSource, Supervisor, SupervisorConfig, WorkerSpec, serve_service
from modelport.settings import ServeModel, Settings, read_serve_file

log = logging.getLogger("modelport.serving")

#: REF → where its verified artifact is and what it is served as; raises a modelport error.
Resolver = Callable[[str, bool], ModelSource]

DEVICES = "cpu, cuda, cuda:N or auto"
#: the dashboard and the drift gauges (named, not imported: the reports stack loads only in the server)
MONITOR_EXTENSION = "modelport.app.monitor:extension"
#: endpoint plans followed from the registry, the admin API and the canary loop
ROLLOUT_EXTENSION = "modelport.app.rollout:extension"


def resolve_ref(ref: str, allow_env_mismatch: bool) -> ModelSource:
    """Any registry ref (``name@production``, ``name:3``, a digest) or path; served as name:version.

    Every file's digest is re-checked on the way out of the store and the lock is compared with this
    environment; archived versions are refused.
    """
    with open_registry() as registry:
        found = registry.resolve(ref, verify=True)
    verified = verify(found.path, allow_env_mismatch=allow_env_mismatch)
    if found.version is None:
        return ModelSource(str(verified.root), verified.manifest.name, verified.digest[:12])
    return ModelSource(str(verified.root), found.version.name, str(found.version.version))


def serve_models(models: list[ServeModel], resolve: Resolver, allow_env_mismatch: bool
                 ) -> tuple[ModelSource, ...]:
    sources: dict[tuple[str, str], ModelSource] = {}
    for entry in models:
        source = resolve(entry.ref, allow_env_mismatch)
        source = dataclasses.replace(source, name=entry.name) if entry.name else source
        sources.setdefault((source.name, source.version), source)  # two refs to one version: served once
    return tuple(sources.values())


def run_server(spec: WorkerSpec, workers: int) -> None:
    """One process serving directly, or a supervisor over ``workers`` processes."""
    for source in spec.models:
        log.warning("serving %s version %s from %s", source.name, source.version, source.path)
    if workers > 1:
        Supervisor(spec, SupervisorConfig(workers=workers)).run()
        return
    from modelport.serving.http.app import build_service, create_app

    loaded = [(source.name, source.version,
               load(source.path, allow_env_mismatch=spec.allow_env_mismatch, golden_check=False,
                    device=spec.device)) for source in spec.models]
    service, metrics = build_service(loaded, spec.config)
    app = create_app(service, metrics, extensions=build_extensions(spec.extensions, service, metrics))
    serve_service(service, app, spec.config, spec.log_level).run()


def merge_settings(file_options: dict[str, object], cli: dict[str, Any]) -> dict[str, Any]:
    """Command-line values given explicitly win over the file's, which win over the defaults."""
    merged: dict[str, Any] = dict(file_options)
    merged.update({key: value for key, value in cli.items() if value is not None})
    return merged


def log_config(settings: dict[str, Any], environment: Settings) -> LogConfig | None:
    """The prediction log's settings; None when ``log_predictions`` is off."""
    if not settings.get("log_predictions", True):
        return None
    rate = float(settings.get("log_sample_rate", 1.0))
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"log_sample_rate must lie in [0, 1], got {rate}")
    interval = float(settings.get("log_flush_interval", 1.0))
    if interval <= 0:
        raise ConfigError(f"log_flush_interval must be positive, got {interval}")
    return LogConfig(str(environment.predictions), rate, tuple(map(str, settings.get("log_exclude", ()))),
                     tuple(map(str, settings.get("log_hash", ()))), environment.log_salt, interval)


def monitor_extension(settings: dict[str, Any], log: LogConfig | None) -> tuple[ExtensionSpec, ...]:
    """The dashboard and gauges, when there is a prediction log for them to read."""
    dashboard = bool(settings.get("dashboard", True))
    interval = float(settings.get("monitor_interval", 60.0))
    if interval < 0:
        raise ConfigError(f"monitor_interval must not be negative, got {interval}")
    if log is None or (not dashboard and interval == 0):
        return ()
    since = str(settings.get("monitor_range", "1h"))
    options = {"dashboard": dashboard, "interval_s": interval, "range": since}
    return (ExtensionSpec(MONITOR_EXTENSION, options),)


def rollout_extension(settings: dict[str, Any], environment: Settings, device: str
                      ) -> tuple[ExtensionSpec, ...]:
    """Endpoint plans from the registry, the admin API (token from the environment) and the canary loop."""
    registry = environment.registry_config()
    options: dict[str, Any] = {
        "registry": {"url": registry.url, "artifacts": registry.artifacts, "user": registry.user},
        "admin_token": environment.admin_token, "device": device,
        "allow_env_mismatch": bool(settings.get("allow_env_mismatch", False))}
    renamed = (("keep_warm", "keep_warm_s"), ("plan_poll", "poll_s"), ("canary_tick", "canary_tick_s"))
    for key, option in renamed:
        if settings.get(key) is not None:
            value = float(settings[key])
            if value < 0:
                raise ConfigError(f"{key} must not be negative, got {value}")
            options[option] = value
    return (ExtensionSpec(ROLLOUT_EXTENSION, options),)


def build_spec(sources: tuple[ModelSource, ...], settings: dict[str, Any],
               environment: Settings | None = None) -> tuple[WorkerSpec, int]:
    """The worker spec and worker count from merged settings; bad values raise ConfigError."""
    names = {"request_timeout": "request_timeout_s", "stall_timeout": "stall_timeout_s",
             "drain_timeout": "drain_timeout_s"}
    server_fields = {field.name for field in dataclasses.fields(ServerConfig)} - {"log", "inference_token"}
    options = {names.get(key, key): value for key, value in settings.items()}
    environment = environment or Settings.from_env()
    log = log_config(settings, environment)
    try:
        config = ServerConfig(**{key: value for key, value in options.items() if key in server_fields},
                              log=log, inference_token=environment.inference_token)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    device = str(options.get("device", "auto"))
    if device not in ("cpu", "cuda", "auto") and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise ConfigError(f"device must be {DEVICES}, got {device!r}")
    workers = int(options.get("workers", 1))
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    extensions = (*monitor_extension(settings, log), *rollout_extension(settings, environment, device))
    spec = WorkerSpec(sources, config, bool(options.get("allow_env_mismatch", False)), device,
                      str(options.get("log_level", "warning")), extensions)
    return spec, workers


def declare_endpoints(plans: tuple[EndpointPlan, ...], source: str) -> list[ServeModel]:
    """Store the serve file's plans in the registry (unless unchanged since last declared) and name
    the primaries of every stored plan: the server loads them before it reports ready."""
    from modelport.app.rollout_actions import declare  # the registry (SQLAlchemy): only when serving

    primaries: list[ServeModel] = []
    with open_registry() as registry:
        environment = Settings.from_env()
        for plan in plans:
            declare(registry, plan, who=environment.user, source=source)
        for record in registry.endpoints.all():
            primaries.append(ServeModel(parse_plan(record.endpoint, record.plan).primary))
    return primaries


def serve_command(resolve: Resolver) -> Callable[..., None]:
    """The typer command, bound to the composition root's resolver."""

    @handle_errors
    def serve(
        refs: Annotated[list[str] | None, typer.Argument(
            metavar="[REF]...", help="registry references (name@alias, name:3) or artifact paths")] = None,
        config: Annotated[Path | None, typer.Option(
            "--config", help="a YAML file of models and settings; options given here win")] = None,
        host: Annotated[str | None, typer.Option(help="address to listen on [127.0.0.1]")] = None,
        port: Annotated[int | None, typer.Option(help="port to listen on [8000]")] = None,
        workers: Annotated[int | None, typer.Option(
            help="worker processes on the port, supervised when more than one [1]")] = None,
        device: Annotated[str | None, typer.Option(
            help=f"where models that can use an accelerator compute: {DEVICES} [auto]")] = None,
        max_batch_size: Annotated[int | None, typer.Option(help="most rows per model call [64]")] = None,
        max_batch_delay_ms: Annotated[float | None, typer.Option(
            help="longest wait for more requests to join a batch, only while others are arriving [2]")
        ] = None,
        max_queue: Annotated[int | None, typer.Option(help="queued requests per model before 503 [1024]")
                             ] = None,
        max_body_bytes: Annotated[int | None, typer.Option(help="larger bodies get 413 [32 MiB]")] = None,
        request_timeout: Annotated[float | None, typer.Option(
            help="seconds before a request gets 504 [30]")] = None,
        stall_timeout: Annotated[float | None, typer.Option(
            help="a model call running longer makes the worker not live (replaced) [120]")] = None,
        drain_timeout: Annotated[float | None, typer.Option(
            help="on SIGTERM, seconds in-flight requests get to finish [30]")] = None,
        inline_below_ms: Annotated[float | None, typer.Option(
            help="models whose calls average under this many ms run on the event loop, not a "
                 "thread of their own; 0: always a thread [10]")] = None,
        allow_env_mismatch: Annotated[bool | None, typer.Option(
            "--allow-env-mismatch", help="serve models packed with other framework versions")] = None,
        log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error [warning]")
                             ] = None,
        log_predictions: Annotated[bool | None, typer.Option(
            "--log-predictions/--no-log-predictions",
            help="record every prediction in $MODELPORT_HOME/predictions [on]")] = None,
        log_sample_rate: Annotated[float | None, typer.Option(help="share of rows logged [1]")] = None,
        log_exclude: Annotated[list[str] | None, typer.Option(
            help="an input column never logged (repeat the option for more)")] = None,
        log_hash: Annotated[list[str] | None, typer.Option(
            help="an input column logged as a salted sha256 (salt: $MODELPORT_LOG_SALT)")] = None,
        log_flush_interval: Annotated[float | None, typer.Option(
            help="seconds between log writes: the most a SIGKILL can lose [1]")] = None,
        dashboard: Annotated[bool | None, typer.Option(
            "--dashboard/--no-dashboard", help="serve the live monitoring page at /dashboard [on]")] = None,
        monitor_interval: Annotated[float | None, typer.Option(
            help="seconds between updates of the drift and performance gauges on /metrics; 0: off [60]")
        ] = None,
        monitor_range: Annotated[str | None, typer.Option(
            help="span of the prediction log the gauges look back over, e.g. 1h or 1d [1h]")] = None,
        keep_warm: Annotated[float | None, typer.Option(
            help="seconds a version no endpoint plan names any more stays loaded (rollback is then "
                 "instant) [600]")] = None,
        plan_poll: Annotated[float | None, typer.Option(
            help="seconds between re-reads of endpoint plans and aliases from the registry [1]")] = None,
        canary_tick: Annotated[float | None, typer.Option(
            help="seconds between judgements of running canaries; 0: canaries move only by hand [5]")
        ] = None,
        shadow_queue: Annotated[int | None, typer.Option(
            help="requests waiting for their shadow copies; more are dropped and counted [256]")] = None,
    ) -> None:
        """Serve models over Open Inference Protocol v2, KServe v1 and MLflow scoring on one port.

        With --workers N above 1, a supervisor runs N processes on the port, replaces one that
        crashes or stops answering its health probe, and drains them all on SIGTERM.
        """
        serve_file = read_serve_file(config) if config is not None else None
        models = [*(serve_file.models if serve_file else ()), *(ServeModel(ref) for ref in refs or [])]
        primaries = declare_endpoints(serve_file.endpoints if serve_file else (), str(config))
        models += [primary for primary in primaries if primary.ref not in {m.ref for m in models}]
        if not models:
            raise typer.BadParameter("name at least one model: REF arguments, `models:` or `endpoints:` "
                                     "in --config")
        settings = merge_settings(serve_file.options if serve_file else {}, {
            "host": host, "port": port, "workers": workers, "device": device,
            "max_batch_size": max_batch_size, "max_batch_delay_ms": max_batch_delay_ms,
            "max_queue": max_queue, "max_body_bytes": max_body_bytes, "request_timeout": request_timeout,
            "stall_timeout": stall_timeout, "drain_timeout": drain_timeout,
            "inline_below_ms": inline_below_ms,
            "allow_env_mismatch": allow_env_mismatch, "log_level": log_level,
            "log_predictions": log_predictions, "log_sample_rate": log_sample_rate,
            "log_exclude": log_exclude or None, "log_hash": log_hash or None,
            "log_flush_interval": log_flush_interval, "dashboard": dashboard,
            "monitor_interval": monitor_interval, "monitor_range": monitor_range,
            "keep_warm": keep_warm, "plan_poll": plan_poll, "canary_tick": canary_tick,
            "shadow_queue": shadow_queue})
        spec, count = build_spec((), settings)  # bad settings fail before any model is resolved
        spec = dataclasses.replace(spec, models=serve_models(models, resolve, spec.allow_env_mismatch))
        run_server(spec, count)

    return serve
