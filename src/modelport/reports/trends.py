"""Follow each drift test and performance metric across the windows, and decide which ones alert.

A window's test decides at its own error rate (alpha after the correction across features, or a
distance threshold), so over 24 hourly windows a sound test still alarms now and then on data that
did not change. An alert therefore needs the change to hold: it fires when the whole range, tested
as one window, drifted (or broke a performance bound), or when each of the last ``persistence``
evaluated windows did. A single window that alarms is shown, not alerted on. Features the A/A check
did not trust never alert, and neither do the metrics a report names as quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from modelport.monitoring.drift import DriftResult, FeatureDrift
from modelport.monitoring.performance import MetricResult, PerformanceResult
from modelport.reports.results import MetricTrend, Span, Trend, WindowReport


def trailing(flags: Sequence[bool]) -> int:
    """How many of the last flags are True in a row."""
    run = 0
    for flag in reversed(flags):
        if not flag:
            break
        run += 1
    return run


def _find(result: DriftResult | None, name: str) -> FeatureDrift | None:
    if result is None:
        return None
    return next((f for f in result.features if f.feature == name), None)


def drift_trend(name: str, windows: Sequence[WindowReport], overall: DriftResult | None,
                pick: Callable[[WindowReport], DriftResult | None], persistence: int) -> Trend:
    """The trend of one drift-tested column over the windows ``pick`` reads its results from."""
    seen: list[tuple[Span, FeatureDrift]] = []
    for window in windows:
        found = _find(pick(window), name)
        if found is not None:
            seen.append((window.span, found))
    flags = [f.drifted for _, f in seen]
    drifted = [span for span, f in seen if f.drifted]
    run = trailing(flags)
    whole = _find(overall, name)
    effects = [f.test.effect_size for _, f in seen]
    any_result = whole or (seen[-1][1] if seen else None)
    trusted = any_result.trusted if any_result is not None else True
    overall_drifted = whole is not None and whole.drifted
    return Trend(
        name=name,
        kind=any_result.kind if any_result is not None else "",
        effect_size_name=any_result.test.effect_size_name if any_result is not None else "",
        evaluated=len(seen),
        drifted_windows=tuple(span.index for span in drifted),
        run=run,
        since=seen[-run][0].start if run else None,
        first=drifted[0].start if drifted else None,
        latest_effect=effects[-1] if effects else None,
        max_effect=max(effects) if effects else None,
        overall_method=whole.test.method if whole is not None else None,
        overall_effect=whole.test.effect_size if whole is not None else None,
        overall_drifted=overall_drifted,
        trusted=trusted,
        alert=trusted and (overall_drifted or run >= persistence),
    )


def drift_trends(windows: Sequence[WindowReport], overall: DriftResult | None,
                 pick: Callable[[WindowReport], DriftResult | None], persistence: int) -> tuple[Trend, ...]:
    """One trend per column the overall result or any window tested, in the calculator's order."""
    names: list[str] = [f.feature for f in overall.features] if overall is not None else []
    for window in windows:
        result = pick(window)
        for feature in result.features if result is not None else ():
            if feature.feature not in names:
                names.append(feature.feature)
    return tuple(drift_trend(n, windows, overall, pick, persistence) for n in names)


def _metric(result: PerformanceResult | None, name: str) -> MetricResult | None:
    if result is None or not result.rows:
        return None
    return next((m for m in result.metrics if m.metric == name), None)


def metric_trend(name: str, spans: Sequence[Span], results: Sequence[PerformanceResult | None],
                 overall: PerformanceResult | None, persistence: int, estimated: bool,
                 quiet: Collection[str] = ()) -> MetricTrend:
    """The trend of one metric over windows whose results are ``results`` (None: not evaluated)."""
    seen = [(span, m) for span, r in zip(spans, results, strict=True)
            if (m := _metric(r, name)) is not None and m.value is not None]
    whole = _metric(overall, name)
    run = trailing([m.alert for _, m in seen])
    reference = whole.reference if whole is not None else (seen[0][1].reference if seen else None)
    return MetricTrend(
        metric=name, estimated=estimated, reference=reference,
        first=seen[0][1].value if seen else None,
        latest=seen[-1][1].value if seen else None,
        overall=whole.value if whole is not None else None,
        alert_windows=tuple(span.index for span, m in seen if m.alert),
        since=seen[-run][0].start if run else None,
        alert=name not in quiet and ((whole is not None and whole.alert) or run >= persistence),
        latest_rows=seen[-1][1].rows if seen else None,
    )


def metric_trends(windows: Sequence[WindowReport], overall: WindowReport, persistence: int,
                  quiet: Collection[str] = ()) -> tuple[MetricTrend, ...]:
    """Realized metrics over the windows with labels; estimated ones over the windows without."""
    spans = [w.span for w in windows]
    out: list[MetricTrend] = []
    realized = [w.performance for w in windows]
    names = _names([overall.performance, *realized])
    out.extend(metric_trend(n, spans, realized, overall.performance, persistence, False, quiet)
               for n in names)
    unlabelled = [w.estimated if w.performance is None else None for w in windows]
    whole = overall.estimated if overall.performance is None else None
    names = _names([whole, *unlabelled])
    out.extend(metric_trend(n, spans, unlabelled, whole, persistence, True, quiet) for n in names)
    return tuple(out)


def _names(results: Sequence[PerformanceResult | None]) -> list[str]:
    names: list[str] = []
    for result in results:
        for metric in result.metrics if result is not None else ():
            if metric.metric not in names:
                names.append(metric.metric)
    return names
