"""The live dashboard page: one HTML document whose script draws a monitoring report's JSON with plotly.

The page holds no numbers itself. Every ``refresh_s`` seconds it fetches ``dashboard/data`` (the
server's JSON: the models served, and a report as :func:`modelport.reports.jsonio.report_dict`
writes it) and redraws: latency percentiles, throughput, requests and error rate by status class,
data drift per feature (over the range, and per window), prediction drift, performance over time
once labels arrive (estimated before), and the figures of each version. plotly.js comes from
``dashboard/plotly.min.js``, which the server answers from the installed plotly package
(:func:`plotly_js`), so the page works without any network beyond the server. Paths are relative,
so the page also works behind a proxy that mounts the server under a prefix.
"""

from __future__ import annotations

from modelport.errors import MissingDependencyError

#: the choices of range the page offers (the server accepts any span)
RANGES = ("5min", "15min", "1h", "6h", "24h", "7d")


def plotly_js() -> str:
    """The minified plotly.js bundled with the installed plotly package."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:
        raise MissingDependencyError("plotly", "reports") from exc
    script: str = get_plotlyjs()
    return script


def render_page(refresh_s: float) -> str:
    """The dashboard's HTML; it redraws every ``refresh_s`` seconds."""
    options = "".join(f'<option value="{span}">{span}</option>' for span in RANGES)
    return (PAGE.replace("__RANGES__", options)
            .replace("__REFRESH_MS__", str(max(1, round(refresh_s * 1000)))))


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelport dashboard</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.5rem;background:#fff;
border-bottom:1px solid #ddd;flex-wrap:wrap}
header h1{font-size:1.2rem;margin:0 1rem 0 0}header label{font-size:.9rem;color:#555}
#status{margin-left:auto;font-size:.85rem;color:#666}#status.error{color:#a4161a}
main{padding:1rem 1.5rem;max-width:1500px;margin:0 auto}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:.6rem;margin-bottom:1rem}
.tile{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.5rem .8rem}
.tile .name{font-size:.75rem;color:#666;text-transform:uppercase;letter-spacing:.03em}
.tile .value{font-size:1.4rem;font-weight:600;margin-top:.2rem}
.tile.alert{border-color:#d62728;background:#fdecea}
#alerts{margin:0 0 1rem 0;padding:0;list-style:none}
#alerts li{background:#fdecea;color:#a4161a;border-radius:4px;padding:.3rem .6rem;margin:.2rem 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:.6rem}
.chart{background:#fff;border:1px solid #e3e3e3;border-radius:6px;min-height:340px}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem;background:#fff}
th,td{padding:.3rem .7rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}
</style>
<script src="dashboard/plotly.min.js"></script>
</head>
<body>
<header>
<h1>modelport</h1>
<label>model <select id="model"></select></label>
<label>range <select id="since">__RANGES__</select></label>
<span id="status">loading…</span>
</header>
<main>
<section class="tiles">
<div class="tile" id="tile-requests"><div class="name">requests</div><div class="value">-</div></div>
<div class="tile" id="tile-throughput"><div class="name">requests / s</div><div class="value">-</div></div>
<div class="tile" id="tile-p50"><div class="name">latency p50 ms</div><div class="value">-</div></div>
<div class="tile" id="tile-p95"><div class="name">latency p95 ms</div><div class="value">-</div></div>
<div class="tile" id="tile-p99"><div class="name">latency p99 ms</div><div class="value">-</div></div>
<div class="tile" id="tile-errors"><div class="name">error rate</div><div class="value">-</div></div>
<div class="tile" id="tile-drifted"><div class="name">drifted features</div><div class="value">-</div></div>
<div class="tile" id="tile-alerts"><div class="name">alerts</div><div class="value">-</div></div>
</section>
<ul id="alerts"></ul>
<div class="grid">
<div class="chart" id="chart-latency"></div>
<div class="chart" id="chart-traffic"></div>
<div class="chart" id="chart-errors"></div>
<div class="chart" id="chart-drift"></div>
<div class="chart" id="chart-drift-windows"></div>
<div class="chart" id="chart-prediction-drift"></div>
<div class="chart" id="chart-performance"></div>
</div>
<h2>Versions</h2>
<table id="versions"><thead><tr><th>version</th><th>requests</th><th>requests / s</th><th>p50 ms</th>
<th>p95 ms</th><th>p99 ms</th><th>error rate</th><th>5xx rate</th></tr></thead><tbody></tbody></table>
<p id="notes"></p>
</main>
<script>
"use strict";
const REFRESH_MS = __REFRESH_MS__;
const params = new URLSearchParams(location.search);
const state = {model: params.get("model") || "", version: params.get("version") || "",
               since: params.get("since") || "1h", window: params.get("window") || ""};
const CONFIG = {displaylogo: false, responsive: true};
const RED = "#d62728", BLUE = "#1f77b4", GREY = "#7f7f7f";

function layout(title, more) {
  return Object.assign({title: {text: title}, height: 340, template: "plotly_white",
    margin: {l: 55, r: 45, t: 45, b: 55}, legend: {orientation: "h", y: -0.25}}, more || {});
}
function fmt(value, digits) {
  if (value === null || value === undefined) return "-";
  return Number(value).toPrecision(digits || 3);
}
function pct(value) { return value === null || value === undefined ? "-" : (100 * value).toFixed(2) + " %"; }
function tile(id, text, alert) {
  const node = document.getElementById(id);
  node.querySelector(".value").textContent = text;
  node.classList.toggle("alert", !!alert);
}
function draw(id, traces, title, more) { Plotly.react(id, traces, layout(title, more), CONFIG); }
function starts(report) { return report.windows.map(w => w.span.start); }

function fillModels(data) {
  const select = document.getElementById("model");
  const wanted = data.version === null ? data.model : data.model + ":" + data.version;
  const options = [];
  for (const m of data.models) {
    options.push([m.name, m.name + " (all versions)"]);
    for (const v of m.versions) options.push([m.name + ":" + v, m.name + " version " + v]);
  }
  select.innerHTML = options.map(([value, text]) =>
    '<option value="' + value + '">' + text + '</option>').join("");
  select.value = wanted;
}

function drawOperations(report) {
  const x = starts(report), windows = report.windows;
  const latency = ["p50", "p95", "p99"].map(p => ({x: x, y: windows.map(w => w.operations.latency_ms[p]),
    name: p, mode: "lines+markers", type: "scatter"}));
  const versions = Object.keys(report.overall.versions);
  if (versions.length > 1) {
    for (const v of versions) latency.push({x: x, name: "p99 version " + v, mode: "lines", type: "scatter",
      line: {dash: "dash"}, y: windows.map(w => w.versions[v] ? w.versions[v].latency_ms.p99 : null)});
  }
  draw("chart-latency", latency, "Latency per window", {yaxis: {title: {text: "ms"}, rangemode: "tozero"}});
  const classes = [...new Set(windows.flatMap(w => Object.keys(w.operations.status_classes)))].sort();
  const traffic = classes.map(c => ({x: x, y: windows.map(w => w.operations.status_classes[c] || 0),
    name: c, type: "bar"}));
  traffic.push({x: x, y: windows.map(w => w.operations.throughput), name: "requests / s", yaxis: "y2",
    mode: "lines+markers", type: "scatter", line: {color: "#000"}});
  draw("chart-traffic", traffic, "Requests by status class, and throughput", {barmode: "stack",
    yaxis: {title: {text: "requests"}}, yaxis2: {title: {text: "per second"}, overlaying: "y", side: "right",
    rangemode: "tozero"}});
  const failing = classes.filter(c => c !== "2xx");
  const errors = failing.map(c => ({x: x, name: c, mode: "lines+markers", type: "scatter",
    y: windows.map(w => w.operations.requests ? (w.operations.status_classes[c] || 0) / w.operations.requests
                                              : null)}));
  draw("chart-errors", errors, "Error rate by status class", {yaxis: {title: {text: "share of requests"},
    tickformat: ".1%", rangemode: "tozero"}});
}

function effects(report, name, pick) {
  return report.windows.map(w => {
    const result = pick(w);
    const found = result ? result.features.find(f => f.feature === name) : undefined;
    return found ? found.effect_size : null;
  });
}

function drawDrift(report) {
  const shown = report.features.filter(t => t.overall_effect !== null);
  draw("chart-drift", [{type: "bar", x: shown.map(t => t.name), y: shown.map(t => t.overall_effect),
    marker: {color: shown.map(t => t.alert ? RED : BLUE)}, customdata: shown.map(t => t.overall_method),
    hovertemplate: "%{x}: %{y:.3g} (%{customdata})<extra></extra>"}],
    "Data drift per feature over the range (red: alert)", {yaxis: {title: {text: "effect size"}}});
  draw("chart-drift-windows", [{type: "heatmap", x: starts(report), y: report.features.map(t => t.name),
    z: report.features.map(t => effects(report, t.name, w => w.data_drift)), colorscale: "Reds", zmin: 0,
    colorbar: {title: {text: "effect"}}}], "Data drift per feature and window");
  const outputs = report.outputs.map(t => ({x: starts(report), name: t.name, mode: "lines+markers",
    type: "scatter", y: effects(report, t.name, w => w.prediction_drift)}));
  draw("chart-prediction-drift", outputs, "Prediction drift per window",
       {yaxis: {title: {text: "effect size"}}});
}

function drawPerformance(report) {
  const traces = [];
  const kinds = [["performance", "solid", ""], ["estimated_performance", "dash", " (estimated)"]];
  for (const [key, dash, label] of kinds) {
    const names = [...new Set(report.windows.flatMap(w => w[key] ? w[key].metrics.map(m => m.metric) : []))];
    for (const name of names) {
      if (name === "calibration_error") continue;
      const y = report.windows.map(w => {
        const found = w[key] ? w[key].metrics.find(m => m.metric === name) : undefined;
        return found ? found.value : null;
      });
      if (y.some(v => v !== null)) traces.push({x: starts(report), y: y, name: name + label,
        mode: "lines+markers", type: "scatter", line: {dash: dash}});
    }
  }
  const more = traces.length ? {} : {annotations: [{text: "no performance yet: no labelled predictions",
    showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5}]};
  draw("chart-performance", traces, "Performance per window", more);
}

function drawVersions(report) {
  const rows = Object.entries(report.overall.versions).map(([v, o]) => "<tr><td>" + v + "</td><td>" +
    o.requests + "</td><td>" + fmt(o.throughput) + "</td><td>" + fmt(o.latency_ms.p50) + "</td><td>" +
    fmt(o.latency_ms.p95) + "</td><td>" + fmt(o.latency_ms.p99) + "</td><td>" + pct(o.error_rate) +
    "</td><td>" + pct(o.server_error_rate) + "</td></tr>");
  document.querySelector("#versions tbody").innerHTML = rows.join("");
}

function fromFirstRequest(report) {
  // windows before the first request only stretch the time axis (a server that just started)
  const first = report.windows.findIndex(w => w.operations.requests > 0);
  return first <= 0 ? report : Object.assign({}, report, {windows: report.windows.slice(first)});
}

function render(data) {
  fillModels(data);
  const report = fromFirstRequest(data.report), overall = report.overall.operations;
  tile("tile-requests", String(overall.requests));
  tile("tile-throughput", fmt(overall.throughput));
  tile("tile-p50", fmt(overall.latency_ms.p50));
  tile("tile-p95", fmt(overall.latency_ms.p95));
  tile("tile-p99", fmt(overall.latency_ms.p99));
  tile("tile-errors", pct(overall.error_rate), overall.server_error_rate > 0);
  const drifted = report.features.filter(t => t.alert).map(t => t.name);
  tile("tile-drifted", drifted.length + " / " + report.features.length, drifted.length > 0);
  tile("tile-alerts", String(report.summary.alerts.length), report.summary.alerts.length > 0);
  document.getElementById("alerts").innerHTML = report.summary.alerts.map(a => "<li></li>").join("");
  document.querySelectorAll("#alerts li").forEach((li, i) => {
    li.textContent = report.summary.alerts[i].message;
  });
  document.getElementById("notes").textContent = report.notes.join(" ");
  drawOperations(report);
  drawDrift(report);
  drawPerformance(report);
  drawVersions(report);
  const status = document.getElementById("status");
  status.classList.remove("error");
  status.textContent = "window " + data.window + " · computed " + data.computed_at + " · refresh every " +
    REFRESH_MS / 1000 + " s";
  document.body.dataset.computedAt = data.computed_at;
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
}

async function refresh() {
  const query = new URLSearchParams({since: state.since});
  if (state.model) query.set("model", state.model);
  if (state.version) query.set("version", state.version);
  if (state.window) query.set("window", state.window);
  const status = document.getElementById("status");
  try {
    const answer = await fetch("dashboard/data?" + query.toString());
    const data = await answer.json();
    if (!answer.ok) throw new Error(data.error || answer.statusText);
    render(data);
  } catch (error) {
    status.classList.add("error");
    status.textContent = "cannot update: " + error.message;
  }
}

document.getElementById("since").value = state.since;
document.getElementById("since").addEventListener("change", event => {
  state.since = event.target.value; state.window = ""; refresh();
});
document.getElementById("model").addEventListener("change", event => {
  const [model, version] = event.target.value.split(":");
  state.model = model; state.version = version || ""; refresh();
});
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
"""
