"""Canary and A/B analysis: gates, statistics and promote-or-roll-back decisions from window data.

::

    stats = window_statistics(joined(root, model, since, until), metric="conversion")
    decision = analysis.evaluate(stats["credit:3"], stats["credit:4"])   # a CanaryAnalysis
    result = analyze(arm_outcomes(frame, {"a": "pricing:1", "b": "pricing:2"}), min_effect=0.05)
    report = compare_shadow(*split_roles(frame, "credit:5"))

Everything here reads plain statistics or log frames and returns plain results; acting on them
(moving weights and aliases) is the server's and the CLI's job.
"""

from __future__ import annotations

from modelport.promotion.ab import ABResult, ArmSummary, Comparison, analyze, arm_outcomes, required_per_arm
from modelport.promotion.canary import (
    Action,
    CanaryAnalysis,
    CanaryState,
    Decision,
    Phase,
    StepRecord,
    evaluate,
    finish,
    start,
)
from modelport.promotion.gates import GateResult, Outcome, disagreement, judge, overall
from modelport.promotion.shadow import (
    LINK,
    LatencySummary,
    Segment,
    ShadowComparison,
    compare_shadow,
    shadow_versions,
    split_roles,
)
from modelport.promotion.window import WindowStats, version_label, window_statistics

__all__ = [
    "LINK", "ABResult", "Action", "ArmSummary", "CanaryAnalysis", "CanaryState", "Comparison", "Decision",
    "GateResult", "LatencySummary", "Outcome", "Phase", "Segment", "ShadowComparison", "StepRecord",
    "WindowStats", "analyze", "arm_outcomes", "compare_shadow", "disagreement", "evaluate", "finish",
    "judge", "overall", "required_per_arm", "shadow_versions", "split_roles", "start", "version_label",
    "window_statistics",
]
