"""The one table mapping domain errors to HTTP statuses, and the JSON body every error gets."""

from __future__ import annotations

import logging
import uuid

from starlette.responses import Response

from modelport import errors
from modelport.serving.codecs import jsonio

log = logging.getLogger("modelport.serving")

#: checked in order; the first matching class decides the status.
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (errors.RequestTooLargeError, 413),
    (errors.ProtocolError, 400),
    (errors.SchemaError, 422),
    (errors.NotFoundError, 404),
    (errors.NotReadyError, 503),
    (errors.OverloadedError, 503),
    (errors.DeadlineExceededError, 504),
    (errors.PredictionError, 500),
    (errors.ModelportError, 500),
)

#: shown in error bodies; more rows than this are counted, not listed.
MAX_ROWS_SHOWN = 20


def status_of(exc: BaseException) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_response(exc: BaseException) -> Response:
    """The JSON error answer for ``exc``: message, every problem, error id, Retry-After."""
    status = status_of(exc)
    body: dict[str, object] = {"error": str(exc)}
    headers: dict[str, str] = {}
    if isinstance(exc, errors.SchemaError):
        body["problems"] = [_problem(p) for p in exc.problems]
    if isinstance(exc, errors.PredictionError):
        body["error_id"] = exc.error_id
    elif not isinstance(exc, errors.ModelportError):
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error (error id %s)", error_id, exc_info=exc)
        body = {"error": f"internal error (error id {error_id})", "error_id": error_id}
    if isinstance(exc, errors.NotReadyError | errors.OverloadedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return Response(jsonio.encode(body), status, headers, media_type="application/json")


def _problem(problem: errors.Problem) -> dict[str, object]:
    out: dict[str, object] = {"field": problem.field, "problem": problem.problem}
    if problem.rows:
        out["rows"] = list(problem.rows[:MAX_ROWS_SHOWN])
        if len(problem.rows) > MAX_ROWS_SHOWN:
            out["rows_total"] = len(problem.rows)
    return out
