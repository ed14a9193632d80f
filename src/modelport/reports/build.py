"""Build a monitoring report: fit every calculator on the reference, run them on each window and the range.

The predictions are split into windows by time (``"1h"``, ``"1d"``, any span) or by count (an int)
over ``[since, until)``; the whole range is also evaluated as one window (``overall``). Drift and
performance look only at the rows the model answered (2xx); the operational figures at every row.
Realized performance needs labelled rows; its alert bounds are relative to the reference's labelled
sample (worse than the reference by more than a tolerance or than the sizes can resolve), or only
the fixed bounds when the reference has no labels, which the notes say. Estimated performance
(classifiers with probabilities and a labelled reference) is computed on every window and stands in
where a window has no labels. Metrics a window could not compute (no probabilities logged, too few
rows for a calibration error) are named in the notes with the reason. Feature-importance shift
needs a predict function and labelled rows of the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from modelport.core.importance import Predict
from modelport.monitoring.drift import DataDriftCalculator, PredictionDriftCalculator
from modelport.monitoring.estimated import EstimatedPerformanceCalculator
from modelport.monitoring.importance import ImportanceResult, ImportanceShiftCalculator
from modelport.monitoring.performance import (
    CLASSIFICATION,
    REGRESSION,
    Bound,
    PerformanceCalculator,
    PerformanceConfig,
    as_scores,
    finite_rows,
)
from modelport.monitoring.windows import TimeLike, Window, by_count, by_time
from modelport.reports import inputs as log
from modelport.reports.config import QUIET_BECAUSE, ReportConfig
from modelport.reports.distributions import distribution
from modelport.reports.inputs import Reference
from modelport.reports.operations import by_version, operations
from modelport.reports.resources import resource_use
from modelport.reports.results import (
    Distribution,
    ModelInfo,
    MonitorReport,
    Span,
    Summary,
    Trend,
    WindowReport,
)
from modelport.reports.rollout import RolloutSection
from modelport.reports.summary import summarize
from modelport.reports.trends import drift_trends, metric_trends


class Monitors:
    """Every calculator the reference supports, fitted once."""

    def __init__(self, reference: Reference, logged: Sequence[str], scores: Sequence[str],
                 config: ReportConfig) -> None:
        self.reference = reference
        self.config = config
        self.features = [name for name in reference.features if name in logged]
        kinds = {spec.name: spec.kind for spec in reference.signature.inputs if spec.name in self.features}
        self.data = DataDriftCalculator(config.drift).fit(reference.inputs, kinds)
        self.scores = list(scores)
        classification = reference.task == CLASSIFICATION
        self.outputs = PredictionDriftCalculator(log.PREDICTION, self.scores, classification=classification,
                                                 config=config.drift).fit(reference.outputs)
        self.performance: PerformanceCalculator | None = None
        self.estimated: EstimatedPerformanceCalculator | None = None
        self.notes: list[str] = []
        if reference.task not in (CLASSIFICATION, REGRESSION):
            return
        labelled = reference.labelled
        labelled = labelled[labelled[log.LABEL].notna()]
        settings = PerformanceConfig(task=reference.task, target=log.LABEL, prediction=log.PREDICTION,
                                     scores=tuple(self.scores) if classification else (),
                                     classes=reference.classes, positive=config.positive,
                                     bounds=config.bounds, tolerances=config.tolerances,
                                     sigmas=config.sigmas)
        scored = (len(labelled) > 0 and classification and bool(self.scores)
                  and finite_rows(as_scores(labelled, self.scores)).any())
        if scored:
            # the estimator fits a realized calculator of the same settings: one bootstrap, not two
            self.estimated = EstimatedPerformanceCalculator(settings).fit(labelled)
            self.performance = self.estimated.realized
        else:
            self.performance = PerformanceCalculator(settings).fit(labelled)
        self.notes.extend(baseline_notes(self.performance, classification and bool(self.scores)))

    def fits(self, reference: Reference, logged: Sequence[str], scores: Sequence[str],
             config: ReportConfig) -> bool:
        """Whether these monitors are the ones ``Monitors(reference, logged, scores, config)`` would fit."""
        return (self.reference is reference and self.config == config and self.scores == list(scores)
                and self.features == [name for name in reference.features if name in logged])


def baseline_notes(performance: PerformanceCalculator, scores: bool) -> list[str]:
    """What performance alerts are measured against, in sentences for the report's notes."""
    config, notes = performance.config, []
    if performance.has_reference:
        notes.append(f"Performance alerts compare each window with the reference sample's "
                     f"{performance.reference_rows_:,} labelled rows: a metric alerts when it is worse "
                     f"than the reference's by more than {config.sigmas:g} standard errors of the difference"
                     + (" or its tolerance (" + ", ".join(f"{name} {value:g}" for name, value
                                                          in sorted(config.tolerances.items())) + "), "
                        "whichever is larger" if config.tolerances else "") + ".")
    else:
        bounds = ", ".join(f"{name} {_bound_text(b)}" for name, b in sorted(config.bounds.items()))
        notes.append("The reference sample has no labels (the artifact was packed without a target), so "
                     "performance is not compared with it: "
                     + (f"only the fixed bounds decide alerts ({bounds})." if bounds
                        else "no performance metric can alert; give fixed bounds to alert on."))
        if scores:
            notes.append("Estimated performance was not computed: it calibrates the probabilities on the "
                         "reference's labels, and the reference has none.")
    return notes


def _bound_text(bound: Bound) -> str:
    parts = ([f">= {bound.lower:g}"] if bound.lower is not None else []) + (
        [f"<= {bound.upper:g}"] if bound.upper is not None else [])
    return " and ".join(parts) or "unbounded"


def skipped_notes(reports: Sequence[WindowReport], overall: WindowReport) -> list[str]:
    """One note per reason a window could not compute some metrics: which metrics, where, and why."""
    where: dict[tuple[bool, str, str], list[str]] = {}
    for window in (*reports, overall):
        for result in (window.performance, window.estimated):
            if result is None:
                continue
            for metric, why in result.skipped.items():
                place = "the whole range" if window is overall else f"window {window.span.index}"
                where.setdefault((result.estimated, why, metric), []).append(place)
    grouped: dict[tuple[bool, str, tuple[str, ...]], list[str]] = {}
    for (estimated, why, metric), places in where.items():
        grouped.setdefault((estimated, why, tuple(places)), []).append(metric)
    every = (*(f"window {w.span.index}" for w in reports), "the whole range")
    return [f"{'Estimated performance' if estimated else ', '.join(metrics)} not computed in "
            f"{'any window' if places == every else ', '.join(places)}: {why}."
            for (estimated, why, places), metrics in grouped.items()]


def _windows(frame: pd.DataFrame, window: str | int, since: TimeLike | None,
             until: TimeLike | None) -> list[Window]:
    if isinstance(window, int):
        return by_count(frame, window, log.TIME, start=since, end=until)
    return by_time(frame, log.TIME, window, start=since, end=until)


def _span(window: Window, scored: pd.DataFrame) -> Span:
    start, end = window.start, window.end
    if start is None and window.rows:
        times = window.frame[log.TIME]
        start, end = times.min(), times.max()
    labelled = int(log.labels(scored).notna().sum())
    return Span(window.index, window.label, start, end, window.rows, len(scored), labelled, window.complete)


def _seconds(span: Span) -> float | None:
    if span.start is None or span.end is None:
        return None
    return float((span.end - span.start).total_seconds())


def evaluate(monitors: Monitors, window: Window, config: ReportConfig,
             resources: pd.DataFrame | None = None) -> WindowReport:
    """Every calculator's result on one window (and the serving processes' resource samples in it)."""
    scored = log.succeeded(window.frame)
    span = _span(window, scored)
    seconds = _seconds(span)
    report = WindowReport(span, operations(window.frame, seconds), by_version(window.frame, seconds),
                          resources=resource_use(resources, window.start, window.end))
    if len(scored) < max(config.min_rows, 1):
        return report
    outputs = log.outputs(scored, monitors.scores)
    data = monitors.data.calculate(log.inputs(scored, monitors.features)) if monitors.data.features_ else None
    report = replace(report, data_drift=data, prediction_drift=monitors.outputs.calculate(outputs))
    with_labels = outputs.assign(**{log.LABEL: log.labels(scored).to_numpy()})
    if monitors.performance is not None and span.labelled:
        report = replace(report, performance=monitors.performance.calculate(with_labels))
    if monitors.estimated is not None:
        report = replace(report, estimated=monitors.estimated.calculate(with_labels))
    return report


def _importance(reference: Reference, scored: pd.DataFrame, features: list[str], predict: Predict | None,
                config: ReportConfig, notes: list[str]) -> ImportanceResult | None:
    truth = log.labels(scored)
    rows = int(truth.notna().sum())
    reason = None
    if predict is None:
        reason = "no model was given to predict with"
    elif reference.task not in (CLASSIFICATION, REGRESSION):
        reason = f"the model's task is {reference.task}"
    elif "permutation" not in reference.importances:
        reason = "the reference has no permutation importances (it was packed without labels)"
    elif len(features) < len(reference.features):
        reason = "the prediction log lacks or hashes some input columns, so the model cannot run on it"
    elif rows < config.importance_min_rows:
        reason = f"{rows} labelled rows, fewer than the {config.importance_min_rows} it needs"
    if reason is not None or predict is None:
        notes.append(f"Feature-importance shift was not computed: {reason}.")
        return None
    settings = replace(config.importance, task=reference.task)
    calculator = ImportanceShiftCalculator(predict, settings).fit(reference.importances, "permutation")
    return calculator.calculate(log.inputs(scored, features), truth)


def _distributions(reference: Reference, scored: pd.DataFrame, monitors: Monitors, features: Sequence[Trend],
                   outputs: Sequence[Trend], whole: Span) -> tuple[Distribution, ...]:
    """Reference against recent rows for every column that alerted (the rows since it drifted)."""
    out: list[Distribution] = []
    current_inputs = log.inputs(scored, monitors.features)
    current_outputs = log.outputs(scored, monitors.scores)
    times = scored[log.TIME].reset_index(drop=True)
    for trends, ref, cur in ((features, reference.inputs, current_inputs),
                             (outputs, reference.outputs, current_outputs)):
        for trend in trends:
            if not trend.alert:
                continue
            since = trend.since or trend.first or whole.start
            recent = (times >= since).to_numpy() if since is not None else slice(None)
            label = f"since {since.isoformat()}" if since is not None else "the range"
            found = distribution(trend.name, trend.kind, ref[trend.name], cur[trend.name][recent], label)
            if found is not None:
                out.append(found)
    return tuple(out)


def _logged(predictions: pd.DataFrame, reference: Reference) -> tuple[list[str], list[str]]:
    """The input columns the log holds as raw values, and those it holds as digests."""
    digests = log.hashed(predictions, reference)
    logged = [name for c in predictions.columns if str(c).startswith(log.INPUT_PREFIX)
              and (name := str(c).removeprefix(log.INPUT_PREFIX)) not in digests]
    return logged, digests


def _scores(predictions: pd.DataFrame, reference: Reference) -> list[str]:
    return [c for c in reference.score_columns if c in predictions and c in reference.outputs]


def fit_monitors(reference: Reference, predictions: pd.DataFrame, config: ReportConfig | None = None,
                 reuse: Monitors | None = None) -> Monitors:
    """The calculators :func:`build_report` fits for this reference and the columns ``predictions`` logs
    (``reuse`` itself when it already fits them)."""
    config = config or ReportConfig()
    predictions = log.conform(predictions, reference)
    logged, _ = _logged(predictions, reference)
    scores = _scores(predictions, reference)
    if reuse is not None and reuse.fits(reference, logged, scores, config):
        return reuse
    return Monitors(reference, logged, scores, config)


def build_report(reference: Reference, predictions: pd.DataFrame, *, window: str | int = "1h",
                 since: TimeLike | None = None, until: TimeLike | None = None,
                 config: ReportConfig | None = None, predict: Predict | None = None,
                 monitors: Monitors | None = None, resources: pd.DataFrame | None = None,
                 rollout: RolloutSection | None = None) -> MonitorReport:
    """The monitoring report of ``predictions`` (the prediction-log frame) against ``reference``.

    ``monitors`` (from :func:`fit_monitors` on an earlier frame) are reused when they fit this
    reference, the columns this frame logs and this config: a live dashboard reporting on the same
    model again and again saves refitting every calculator (and the A/A check) each time.
    ``resources``: the serving processes' CPU and memory samples (``predictions.read_resources``).
    """
    config = config or ReportConfig()
    log.check_predictions(predictions)
    predictions = log.conform(predictions, reference)
    notes: list[str] = []
    logged, digests = _logged(predictions, reference)
    absent = [name for name in reference.features if name not in logged and name not in digests]
    if absent:
        notes.append(f"Not in the prediction log, so not monitored: {', '.join(absent)}.")
    if digests:
        notes.append(f"Stored as digests in the prediction log, so not monitored: {', '.join(digests)}.")
    scores = _scores(predictions, reference)
    if monitors is None or not monitors.fits(reference, logged, scores, config):
        monitors = Monitors(reference, logged, scores, config)
    notes.extend(f"{name} is not monitored: {why}." for name, why in monitors.data.skipped_.items())
    notes.extend(monitors.notes)
    windows = _windows(predictions, window, since, until)
    frames = [w.frame for w in windows]
    whole_frame = pd.concat(frames) if frames else predictions.iloc[:0]
    starts = [w.start for w in windows if w.start is not None]
    ends = [w.end for w in windows if w.end is not None]
    whole = Window(0, whole_frame, starts[0] if starts else None, ends[-1] if ends else None)
    reports = tuple(evaluate(monitors, w, config, resources) for w in windows)
    overall = evaluate(monitors, whole, config, resources)
    notes.extend(skipped_notes(reports, overall))
    if overall.resources is None:
        notes.append("CPU and memory of the serving processes: the prediction log holds no resource samples "
                     "for this range (the server samples them every 10 s unless told not to; a predictions "
                     "file given instead of the log has none).")
    features = drift_trends(reports, overall.data_drift, lambda w: w.data_drift, config.persistence)
    outputs = drift_trends(reports, overall.prediction_drift, lambda w: w.prediction_drift,
                           config.persistence)
    metrics = metric_trends(reports, overall, config.persistence, config.quiet_metrics)
    notes.extend(f"{m.metric} broke its bound in windows {', '.join(map(str, m.alert_windows))} but never "
                 f"alerts: {QUIET_BECAUSE.get(m.metric, 'the report was told to keep it quiet')}."
                 for m in metrics if m.metric in config.quiet_metrics and m.alert_windows)
    scored = log.succeeded(whole_frame)
    importance = _importance(reference, scored, monitors.features, predict, config, notes)
    distributions = _distributions(reference, scored, monitors, features, outputs, overall.span)
    model = ModelInfo(reference.name, reference.task, reference.classes, reference.digest,
                      reference.version, len(reference.inputs), tuple(monitors.features))
    label = window if isinstance(window, str) else f"{window} predictions"
    draft = MonitorReport(model, label, overall.span.start, overall.span.end, reports, overall, features,
                          outputs, metrics, distributions, importance, Summary((), (), ()), tuple(notes),
                          rollout)
    return replace(draft, summary=summarize(draft, config))
