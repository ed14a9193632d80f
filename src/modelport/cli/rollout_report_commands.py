"""``modelport rollout compare`` and ``modelport rollout analyze``: a rollout judged from the prediction log.

Both read only the log under ``$MODELPORT_HOME/predictions`` (and its feedback); no server is needed.
ENDPOINT is the name clients call, logged in every row's ``endpoint`` column (for plain serving, the
model's name); its rows are gathered from every model folder, since a shadow or an arm may be
another model.

- ``compare ENDPOINT``: each shadow against the primary it copied (``promotion.compare_shadow``).
- ``analyze ENDPOINT --metric NAME``: the A/B arms on the outcomes posted as feedback
  (``promotion.analyze``); it never names a winner before the planned sample is in.

Exit codes: 0 the figures were computed (whatever they say); 11 the log holds too little to
analyse (no shadow rows, an arm without outcomes, outcomes that are not numbers); 2 a bad
invocation. promotion, scipy and the report types load only when a command runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from modelport.cli.errors import handle_errors
from modelport.cli.monitor_commands import time_range
from modelport.errors import InsufficientDataError
from modelport.settings import Settings

if TYPE_CHECKING:
    from modelport.promotion import ABResult
    from modelport.reports.rollout import ShadowSection

__all__ = ["analyze_command", "compare_command", "parse_arms", "register"]

console = Console(soft_wrap=True)
#: a window given as --since is not floored to any window span (time_range floors only spans)
UNFLOORED = 1
ARM = re.compile(r"^\s*([^=,\s]+)\s*=\s*([^=,\s]+:[^=,\s]+)\s*$")



class Kind(StrEnum):
    AUTO = "auto"
    CONVERSION = "conversion"
    NUMERIC = "numeric"


Since = Annotated[str | None, typer.Option("--since", help="the last span, e.g. 24h or 7d")]
Start = Annotated[str | None, typer.Option("--from", help="ISO start time (UTC if no zone)")]
End = Annotated[str | None, typer.Option("--to", help="ISO end time, excluded")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def _window(since: str | None, start: str | None, end: str | None) -> tuple[pd.Timestamp | None,
                                                                            pd.Timestamp | None]:
    return time_range(since, start, end, UNFLOORED, pd.Timestamp.now(tz="UTC"))


def _span(first: pd.Timestamp | None, last: pd.Timestamp | None) -> str:
    if first is None and last is None:
        return "the whole log"
    begins = "the start" if first is None else first.isoformat()
    return f"{begins} to {'now' if last is None else last.isoformat()}"


def _dump(data: Mapping[str, Any]) -> None:
    from modelport.reports.jsonio import plain

    typer.echo(json.dumps(plain(data), indent=2, allow_nan=False))


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _print_shadow(found: ShadowSection) -> None:
    c = found.comparison
    console.print(f"[bold]{found.endpoint}: shadow {found.shadow}[/] against {', '.join(found.primaries)}",
                  highlight=False)
    summary = Table("figure", "value", show_header=False)
    for name, value in (("pairs compared", f"{c.pairs:,}"), ("agreement", _pct(c.agreement)),
                        ("mean score difference", _num(c.mean_difference)),
                        ("max score difference", _num(c.max_difference)),
                        ("copies lost (no shadow answer)", f"{c.missing_shadow:,}"),
                        ("shadow failures", f"{c.shadow_failures:,}")):
        summary.add_row(name, value)
    console.print(summary)
    latency = Table("latency ms", "n", "mean", "p50", "p95", "p99", title="latency of the compared pairs")
    for side, figures in (("primary", c.primary_latency), ("shadow", c.shadow_latency)):
        latency.add_row(side, f"{figures.n:,}", *(_num(v) for v in (
            figures.mean_ms, figures.p50_ms, figures.p95_ms, figures.p99_ms)))
    console.print(latency)
    if not c.segments:
        console.print("no feature segment has enough pairs to show where they diverge")
        return
    segments = Table("feature", "segment", "pairs", "disagreement", "mean difference",
                     title="where they diverge (most disagreement first)")
    for s in c.segments:
        segments.add_row(s.feature, s.segment, f"{s.rows:,}", _pct(s.disagreement), _num(s.mean_difference))
    console.print(segments)


@handle_errors
def compare_command(
    endpoint: Annotated[str, typer.Argument(help="the endpoint name clients call")],
    since: Since = None,
    start: Start = None,
    end: End = None,
    min_rows: Annotated[int, typer.Option(min=1, help="pairs a feature segment needs to be shown")] = 30,
    top: Annotated[int, typer.Option(min=1, help="how many diverging segments to show")] = 10,
    as_json: AsJson = False,
) -> None:
    """Compare each shadow of ENDPOINT with the primary it copied: agreement, score differences, latency."""
    from modelport.app.rollout_figures import endpoint_log, shadow_sections

    first, last = _window(since, start, end)
    frame = endpoint_log(Settings.from_env().predictions, endpoint, first, last)
    sections = shadow_sections(frame, min_rows=min_rows, top=top)
    shadows = int((frame["role"] == "shadow").sum())
    if not sections and shadows:
        raise InsufficientDataError(
            f"the {shadows:,} shadow predictions of endpoint {endpoint!r} in {_span(first, last)} carry no "
            "primary_id linking them to the primary predictions they copied, so none can be paired")
    if not sections:
        raise InsufficientDataError(
            f"no shadow predictions of endpoint {endpoint!r} in {_span(first, last)} ({len(frame):,} rows "
            f"logged for it): start one with `modelport rollout shadow {endpoint} REF`, or widen the window")
    if as_json:
        _dump({"endpoint": endpoint, "since": first, "until": last,
               "shadows": [found.to_dict() for found in sections]})
        return
    for found in sections:
        _print_shadow(found)


def parse_arms(text: str) -> dict[str, str]:
    """``a=pricing:1,b=pricing:2`` → ``{"a": "pricing:1", "b": "pricing:2"}`` (the first is the control)."""
    arms: dict[str, str] = {}
    for part in text.split(","):
        match = ARM.match(part)
        if match is None:
            raise typer.BadParameter(f"{part.strip()!r} is not NAME=MODEL:VERSION", param_hint="--arms")
        name, version = match.groups()
        if name in arms:
            raise typer.BadParameter(f"arm {name!r} is named twice", param_hint="--arms")
        arms[name] = version
    if len(arms) < 2:
        raise typer.BadParameter("give at least two arms, the control first", param_hint="--arms")
    return arms


def _version_key(label: str) -> tuple[str, bool, int, str]:
    model, _, version = label.rpartition(":")
    return model, not version.isdigit(), int(version) if version.isdigit() else 0, version


def found_arms(frame: pd.DataFrame) -> dict[str, str]:
    """The arms in the log: versions logged with role ``arm`` (else every version that answered
    callers), oldest version first, each named by its ``model:version``."""
    rows = frame[frame["role"] == "arm"]
    if rows.empty:
        rows = frame[frame["role"].isin(["primary", "canary"])]
    labels = set(rows["model"].astype(str) + ":" + rows["version"].astype(str))
    return {label: label for label in sorted(labels, key=_version_key)}


def _outcomes(frame: pd.DataFrame, arms: Mapping[str, str], endpoint: str) -> dict[str, Any]:
    from modelport.promotion import arm_outcomes

    try:
        outcomes = arm_outcomes(frame, arms)
    except (TypeError, ValueError) as exc:
        raise InsufficientDataError(f"the outcomes posted for {endpoint!r} must be numbers or booleans: "
                                    f"{exc}") from exc
    labels = frame["model"].astype(str) + ":" + frame["version"].astype(str)
    short = [f"{name} ({version}) has {len(outcomes[name])} outcome(s) for "
             f"{int(((labels == version) & (frame['role'] != 'shadow')).sum()):,} logged predictions"
             for name, version in arms.items() if len(outcomes[name]) < 2]
    if short:
        raise InsufficientDataError(
            f"every arm needs at least two outcomes: {'; '.join(short)}. Post outcomes with "
            "`modelport feedback MODEL FILE --outcome-column COLUMN`, or check --arms and the window")
    return outcomes


def _print_ab(result: ABResult, arms: Mapping[str, str], metric: str) -> None:
    table = Table("arm", "version", "outcomes", f"mean {metric}", "interval",
                  title=f"{metric} per arm ({result.kind}, {1 - result.alpha:.0%} intervals)")
    for arm in result.arms:
        table.add_row(arm.name, arms[arm.name], f"{arm.n:,}", _num(arm.mean),
                      f"[{_num(arm.ci_low)}, {_num(arm.ci_high)}]")
    console.print(table)
    versus = Table("arm", "against", "difference", "interval", "lift", "p-value", "test")
    for c in result.comparisons:
        versus.add_row(c.arm, c.control, f"{c.difference:+.4g}", f"[{c.ci_low:+.4g}, {c.ci_high:+.4g}]",
                       "-" if c.lift is None else f"{c.lift:+.2%}", f"{c.p_value:.3g}", c.test)
    console.print(versus)
    planned = "cannot be planned yet" if result.required_per_arm is None else (
        f"{result.required_per_arm:,} outcomes per arm, {result.still_needed:,} still needed")
    console.print(f"sample size: {planned}", highlight=False)
    if result.sample_ratio_p is not None:
        console.print(f"sample ratio check against the split: p = {result.sample_ratio_p:.3g}",
                      highlight=False)
    console.print(f"[bold]{result.conclusion}[/]", highlight=False)


def _split(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        shares = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a list of percents like 50,50",
                                 param_hint="--split") from exc
    if any(share <= 0 for share in shares):
        raise typer.BadParameter("every arm's share must be above 0", param_hint="--split")
    return shares


@handle_errors
def analyze_command(
    endpoint: Annotated[str, typer.Argument(help="the endpoint name clients call")],
    metric: Annotated[str, typer.Option("--metric", help="the outcome's name (posted as feedback), "
                                                         "e.g. conversion or revenue")],
    arms_text: Annotated[str | None, typer.Option(
        "--arms", help="NAME=MODEL:VERSION,... control first [the arm versions in the log, oldest first]")
    ] = None,
    kind: Annotated[Kind, typer.Option(
        help="conversion (0/1: two-proportion z-test) or numeric (Welch's t-test) [auto: from the values]")
    ] = Kind.AUTO,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="significance level")] = 0.05,
    power: Annotated[float, typer.Option(min=0.5, max=0.9999, help="power the sample size is planned for")
                     ] = 0.8,
    min_effect: Annotated[float, typer.Option(
        min=1e-9, help="smallest change worth detecting (relative: 0.05 is 5 %)")] = 0.05,
    absolute: Annotated[bool, typer.Option("--absolute", help="--min-effect in the outcome's own units")
                        ] = False,
    planned_per_arm: Annotated[int | None, typer.Option(
        min=2, help="outcomes per arm fixed up front (instead of planned from the control's data)")] = None,
    split: Annotated[str | None, typer.Option(
        help="the planned split in percents, e.g. 50,50, to check the arms' sizes against")] = None,
    since: Since = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Compare the A/B arms of ENDPOINT on an outcome posted as feedback; names no winner early."""
    from modelport.app.rollout_figures import endpoint_log
    from modelport.promotion import analyze

    shares = _split(split)
    first, last = _window(since, start, end)
    frame = endpoint_log(Settings.from_env().predictions, endpoint, first, last)
    arms = parse_arms(arms_text) if arms_text is not None else found_arms(frame)
    if len(arms) < 2:
        raise InsufficientDataError(
            f"an A/B analysis needs two arms; endpoint {endpoint!r} logged {len(arms)} version(s) in "
            f"{_span(first, last)} ({', '.join(arms) or 'none'}): name them with --arms a=MODEL:1,b=MODEL:2")
    if shares is not None and len(shares) != len(arms):
        raise typer.BadParameter(f"{len(shares)} shares for {len(arms)} arms", param_hint="--split")
    outcomes = _outcomes(frame, arms, endpoint)
    result = analyze(outcomes, kind=None if kind is Kind.AUTO else str(kind), alpha=alpha, power=power,
                     min_effect=min_effect, relative=not absolute, planned_per_arm=planned_per_arm,
                     split=shares)
    if as_json:
        _dump({"endpoint": endpoint, "metric": metric, "since": first, "until": last, "versions": arms,
               **result.to_dict()})
        return
    _print_ab(result, arms, metric)


def register(group: typer.Typer) -> None:
    """Add ``compare`` and ``analyze`` to the ``rollout`` command group."""
    group.command("compare")(compare_command)
    group.command("analyze")(analyze_command)
