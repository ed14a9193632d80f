"""``modelport monitor report NAME``: a model's monitoring report as HTML or JSON; exit 8 when it alerts.

NAME (``credit``, ``credit:3``, ``credit@production``) is resolved through the registry: the
reference sample comes from the artifact of the version it names (a bare name: the production
alias, else the latest version), or from ``--ref``. A bare name reports the traffic callers saw
(primary, canary and A/B rows of every version; shadow copies would count each request twice);
``NAME:N`` or ``NAME@ALIAS`` every prediction of that version, shadows included. The predictions
come from the loader the composition root passes in (:func:`read_log`: the prediction log under
``$MODELPORT_HOME`` joined with its feedback), or from ``--predictions FILE.parquet``, a frame in
the layout :mod:`modelport.reports.inputs` describes. The serving processes' CPU and memory come
from the resource samples the log keeps beside the predictions (none with ``--predictions``). When
the rows hold shadow copies, canaries or A/B arms, the report gains a rollout section
(:mod:`modelport.app.rollout_figures`). The reports package (scipy, scikit-learn, plotly) loads only when
the command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console

from modelport.cli.errors import handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.core.refs import RefKind, parse_ref
from modelport.errors import AlertsFiredError, ArtifactError, ConfigError, RefError

if TYPE_CHECKING:
    import numpy as np

    from modelport.reports.results import MonitorReport

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True)
class PredictionQuery:
    """Which predictions a report needs: one model (one version, or all), over ``[since, until)``."""

    model: str
    version: str | None
    since: pd.Timestamp | None
    until: pd.Timestamp | None


#: the prediction-log reader: a query → a frame in the layout of :mod:`modelport.reports.inputs`
PredictionLoader = Callable[[PredictionQuery], pd.DataFrame]
#: the reader of the serving processes' CPU and memory samples (``predictions.read_resources``)
ResourceLoader = Callable[[PredictionQuery], pd.DataFrame]


def utc(moment: pd.Timestamp) -> pd.Timestamp:
    """A timestamp in UTC; one without a time zone is taken to be UTC already."""
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def select(frame: pd.DataFrame, query: PredictionQuery) -> pd.DataFrame:
    """The rows of a predictions frame that ``query`` asks for (times made UTC)."""
    if "time" in frame and pd.api.types.is_datetime64_any_dtype(frame["time"].dtype):
        times = frame["time"]
        frame = frame.assign(time=times.dt.tz_localize("UTC") if times.dt.tz is None
                             else times.dt.tz_convert("UTC"))
        if query.since is not None:
            frame = frame[frame["time"] >= query.since]
        if query.until is not None:
            frame = frame[frame["time"] < query.until]
    if "model" in frame:
        frame = frame[frame["model"].astype(str) == query.model]
    if query.version is not None and "version" in frame:
        frame = frame[frame["version"].astype(str) == query.version]
    return frame.reset_index(drop=True)


def file_loader(path: Path) -> PredictionLoader:
    """A loader reading one Parquet file of predictions."""

    def load(query: PredictionQuery) -> pd.DataFrame:
        if not path.is_file():
            raise ConfigError(f"--predictions {path}: no such file")
        return select(pd.read_parquet(path), query)

    return load


def read_log(query: PredictionQuery) -> pd.DataFrame:
    """The prediction log the environment configures, joined with its feedback (labels by id)."""
    from modelport.predictions import joined
    from modelport.settings import Settings

    return joined(Settings.from_env().predictions, query.model, query.since, query.until,
                  version=query.version)


def read_resource_log(query: PredictionQuery) -> pd.DataFrame:
    """The CPU and memory samples the prediction log holds for the processes that served the model."""
    from modelport.predictions import read_resources
    from modelport.settings import Settings

    return read_resources(Settings.from_env().predictions, query.model, query.since, query.until)


def callers_traffic(frame: pd.DataFrame, query: PredictionQuery) -> pd.DataFrame:
    """Without a version: the rows callers were answered with (shadow copies left out)."""
    if query.version is not None or "role" not in frame:
        return frame
    return frame[frame["role"].astype(str) != "shadow"].reset_index(drop=True)


def parse_tolerances(items: list[str]) -> dict[str, float]:
    """``accuracy=0.05`` (repeatable): how much worse than the reference each metric may get."""
    out: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError as exc:
            raise typer.BadParameter(f"{item!r} is not METRIC=AMOUNT, like accuracy=0.05",
                                     param_hint="--tolerance") from exc
        if not name.strip() or out[name.strip()] < 0:
            raise typer.BadParameter(f"{item!r} is not METRIC=AMOUNT with AMOUNT >= 0",
                                     param_hint="--tolerance")
    return out


def parse_bounds(items: list[str]) -> dict[str, tuple[float | None, float | None]]:
    """``accuracy=0.8:`` or ``log_loss=:0.6`` (repeatable): fixed lower:upper bounds per metric."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for item in items:
        name, _, limits = item.partition("=")
        low, colon, high = limits.partition(":")
        try:
            bound = (float(low) if low.strip() else None, float(high) if high.strip() else None)
        except ValueError:
            bound = (None, None)
        if not name.strip() or not colon or bound == (None, None):
            raise typer.BadParameter(f"{item!r} is not METRIC=LOWER:UPPER, like accuracy=0.8: or "
                                     "log_loss=:0.6", param_hint="--bound")
        out[name.strip()] = bound
    return out


def parse_window(text: str) -> str | int:
    """``1h``, ``1d``, ``30min`` (a span) or a number of predictions per window."""
    if text.isdigit():
        if int(text) < 1:
            raise typer.BadParameter("a count window holds at least one prediction", param_hint="--window")
        return int(text)
    try:
        span = pd.Timedelta(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is neither a span (1h, 1d) nor a count",
                                 param_hint="--window") from exc
    if span <= pd.Timedelta(0):
        raise typer.BadParameter("a window must span some time", param_hint="--window")
    return text


def time_range(since: str | None, start: str | None, end: str | None, window: str | int,
               now: pd.Timestamp) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``--since 24h`` (to now, the start floored to the window span) or ``--from``/``--to``."""
    if since is not None and (start is not None or end is not None):
        raise typer.BadParameter("give --since, or --from/--to, not both", param_hint="--since")
    if since is not None:
        try:
            back = pd.Timedelta(since)
        except ValueError as exc:
            raise typer.BadParameter(f"{since!r} is not a span like 24h or 7d", param_hint="--since") from exc
        first = now - back
        if isinstance(window, str):
            first = first.floor(pd.Timedelta(window))  # type: ignore[arg-type]
        return first, now
    try:
        return (utc(pd.Timestamp(start)) if start else None, utc(pd.Timestamp(end)) if end else None)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO time: {exc}", param_hint="--from/--to") from exc


@dataclass(frozen=True)
class Target:
    """What NAME resolved to: the model, the version whose predictions count, the reference's artifact."""

    model: str
    version: str | None
    reference_path: Path
    reference_version: str | None


def resolve(name: str, ref: str | None) -> Target:
    """NAME → the model and version(s) to report on; ``ref`` (or NAME) → the reference artifact."""
    parsed = parse_ref(name)
    if parsed.kind in (RefKind.PATH, RefKind.DIGEST) or parsed.name is None:
        raise RefError(f"{name!r} is not a model name: give NAME, NAME:VERSION or NAME@ALIAS "
                       "(an artifact path or digest goes in --ref)")
    with open_registry() as registry:
        named = registry.resolve(parsed, allow_archived=True) if parsed.kind is not RefKind.NAME else None
        found = registry.resolve(ref or name, allow_archived=True, verify=True)
    version = None if named is None or named.version is None else str(named.version.version)
    label = None if found.version is None else found.version.ref
    return Target(parsed.name, version, found.path, label)


def predictor(path: Path, allow_env_mismatch: bool) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """The reference version's model as a predict function, or None (with a warning) if it cannot load."""
    from modelport.inference.load import load

    try:
        model = load(path, allow_env_mismatch=allow_env_mismatch)
    except ArtifactError as exc:
        err_console.print(f"[yellow]warning:[/] feature importance skipped: {exc}", highlight=False)
        return None

    def predict(frame: pd.DataFrame) -> np.ndarray:
        valid, _ = model.validate(frame)
        return model.predict_frame(valid, proba=False).values

    return predict


def _print_summary(report: MonitorReport, written: Path | None) -> None:
    summary = report.summary
    colour = "red" if summary.alerts else "green"
    status = f"{len(summary.alerts)} alert(s)" if summary.alerts else "no alerts"
    console.print(f"[bold {colour}]{report.model.name}: {status}[/]", highlight=False)
    for alert in summary.alerts:
        console.print(f"  [{colour}]alert[/] {alert.kind}: {alert.message}", highlight=False)
    for line in (*summary.lines, *summary.actions):
        console.print(f"  {line}", highlight=False)
    if written is not None:
        console.print(f"report written to {written}", highlight=False)


def report_command(loader: PredictionLoader, resources: ResourceLoader | None = None) -> Callable[..., None]:
    """The typer command, bound to the composition root's prediction and resource loaders."""

    @handle_errors
    def report(
        name: Annotated[str, typer.Argument(help="NAME (every version), NAME:VERSION or NAME@ALIAS")],
        since: Annotated[str | None, typer.Option("--since", help="the last span, e.g. 24h or 7d")] = None,
        start: Annotated[str | None, typer.Option("--from", help="ISO start time (UTC if no zone)")] = None,
        end: Annotated[str | None, typer.Option("--to", help="ISO end time, excluded")] = None,
        window: Annotated[str, typer.Option(help="window span (1h, 1d) or predictions per window")] = "1h",
        out: Annotated[Path | None, typer.Option(
            "--out", help="file to write [report.html; with --json: standard output]")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="write JSON instead of HTML")] = False,
        ref: Annotated[str | None, typer.Option(
            "--ref", help="reference: any registry ref or artifact path [the version NAME names]")] = None,
        predictions: Annotated[Path | None, typer.Option(
            "--predictions", help="a Parquet file of predictions instead of the prediction log")] = None,
        importance: Annotated[bool, typer.Option(
            help="load the model to compute feature-importance shift on labelled rows")] = True,
        max_error_rate: Annotated[float | None, typer.Option(
            help="alert when a version's share of 5xx answers exceeds this [0.01]")] = None,
        max_p99_ms: Annotated[float | None, typer.Option(
            help="alert when a version's p99 latency exceeds this many ms")] = None,
        tolerance: Annotated[list[str] | None, typer.Option(
            help="METRIC=AMOUNT: alert only when worse than the labelled reference by more (repeatable)")
        ] = None,
        bound: Annotated[list[str] | None, typer.Option(
            help="METRIC=LOWER:UPPER: a fixed bound, the only one when the reference has no labels "
                 "(repeatable)")] = None,
        allow_env_mismatch: Annotated[bool, typer.Option(
            help="load the model for feature importance even if the environment differs from its lock")
        ] = False,
    ) -> None:
        """Drift, performance, feature importance and operations of a model; exit 8 when an alert fires."""
        from modelport.app.rollout_figures import rollout_section
        from modelport.monitoring.performance import Bound
        from modelport.reports import ReportConfig, build_report, load_reference, render_html, render_json

        span = parse_window(window)
        tolerances = parse_tolerances(tolerance or [])
        bounds = {name: Bound(low, high) for name, (low, high) in parse_bounds(bound or []).items()}
        first, last = time_range(since, start, end, span, pd.Timestamp.now(tz="UTC"))
        target = resolve(name, ref)
        read = file_loader(predictions) if predictions is not None else loader
        query = PredictionQuery(target.model, target.version, first, last)
        logged = read(query)
        frame = callers_traffic(logged, query)
        reference = load_reference(target.reference_path, target.reference_version)
        config = ReportConfig(bounds=bounds, tolerances=tolerances)
        if max_error_rate is not None:
            config = replace(config, max_server_error_rate=max_error_rate)
        if max_p99_ms is not None:
            config = replace(config, max_latency_p99_ms=max_p99_ms)
        labelled = "label" in frame and bool(frame["label"].notna().any())
        predict = predictor(target.reference_path, allow_env_mismatch) if importance and labelled else None
        samples = resources(query) if resources is not None and predictions is None else None
        result = build_report(reference, frame, window=span, since=first, until=last, config=config,
                              predict=predict, resources=samples, rollout=rollout_section(logged))
        if as_json and out is None:
            sys.stdout.write(render_json(result) + "\n")
        else:
            path = out or Path("report.html")
            path.write_text(render_json(result) if as_json else render_html(result), encoding="utf-8")
            _print_summary(result, path)
        if result.alerts:
            raise AlertsFiredError([f"{a.kind} {a.subject}" for a in result.alerts])

    return report


def monitor_app(loader: PredictionLoader = read_log,
                resources: ResourceLoader | None = read_resource_log) -> typer.Typer:
    """The ``monitor`` command group, reading predictions through ``loader`` and the serving processes'
    resource samples through ``resources``."""
    app = typer.Typer(name="monitor", no_args_is_help=True, help="Monitor models in production.")
    app.command("report")(report_command(loader, resources))
    return app
