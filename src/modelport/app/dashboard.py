"""The dashboard's routes: the page, the JSON it draws, and plotly.js from the installed plotly package.

``GET /dashboard`` the page; ``GET /dashboard/data?model=M&version=V&since=1h&window=5min`` the
served models and the live report (every parameter optional: the first model, every version, the
last hour, an automatic window); ``GET /dashboard/plotly.min.js`` the script, read once and kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from modelport.app.live import LiveMonitor, LiveReport
from modelport.reports.dashboard import plotly_js, render_page
from modelport.reports.jsonio import plain, report_dict
from modelport.serving.codecs import jsonio
from modelport.serving.http.errors import error_response


def payload(monitor: LiveMonitor, live: LiveReport) -> dict[str, Any]:
    """What ``/dashboard/data`` answers: the served models, the query as understood, and the report."""
    query = live.query
    models = [{"name": name, "versions": list(versions)} for name, versions in monitor.served.items()]
    return {"models": models, "model": query.model, "version": query.version, "since": query.since,
            "window": query.window, "start": plain(live.start), "until": plain(live.until),
            "computed_at": plain(live.until), "report": report_dict(live.report)}


def routes(monitor: LiveMonitor, refresh_s: float) -> list[Route]:
    page = render_page(refresh_s).encode()
    script: dict[str, tuple[bytes, str]] = {}

    async def dashboard(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    async def data(request: Request) -> Response:
        asked = request.query_params
        try:
            query = monitor.query(asked.get("model") or None, asked.get("version") or None,
                                  asked.get("since") or "1h", asked.get("window") or None)
            live = await monitor.report(query)
        except Exception as exc:
            return error_response(exc)
        return Response(jsonio.encode(payload(monitor, live)), media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    async def plotly(request: Request) -> Response:
        if not script:
            try:
                text = (await asyncio.to_thread(plotly_js)).encode()
            except Exception as exc:
                return error_response(exc)
            script["js"] = (text, hashlib.sha256(text).hexdigest()[:16])
        body, tag = script["js"]
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return Response(body, media_type="text/javascript",
                        headers={"ETag": tag, "Cache-Control": "public, max-age=86400"})

    return [Route("/dashboard", dashboard, methods=["GET"]), Route("/dashboard/data", data, methods=["GET"]),
            Route("/dashboard/plotly.min.js", plotly, methods=["GET"])]
