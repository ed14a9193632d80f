"""Monitoring reports: build one from the prediction log and a reference, render it as HTML or JSON.

Plotting lives only here, and plotly loads only when HTML is rendered.
"""

from __future__ import annotations

from modelport.reports.build import Monitors, build_report, fit_monitors
from modelport.reports.config import ReportConfig
from modelport.reports.html import render_html
from modelport.reports.inputs import Reference, load_reference
from modelport.reports.jsonio import render_json
from modelport.reports.results import MonitorReport

__all__ = ["MonitorReport", "Monitors", "Reference", "ReportConfig", "build_report", "fit_monitors",
           "load_reference", "render_html", "render_json"]
