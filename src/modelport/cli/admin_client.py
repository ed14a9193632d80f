"""A small client of a running server's admin API (``/admin``), for ``modelport rollout``.

The token is ``$MODELPORT_ADMIN_TOKEN`` (the same the server was started with); the server is
``--server`` or ``$MODELPORT_SERVER`` (default ``http://127.0.0.1:8000``). Every failure becomes a
modelport error whose message says what to do: the server is unreachable, the token is missing
or wrong, the server's admin API is off, the endpoint is unknown, the plan is refused.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from modelport.errors import ConfigError, ModelportError, NotFoundError, RegistryError, ServingError
from modelport.settings import ADMIN_TOKEN_VARIABLE, Settings

TIMEOUT_S = 330.0  # the server waits up to 300 s for a new plan's versions to load


class AdminClient:
    """Calls ``/admin/...`` on one server with one token."""

    def __init__(self, server: str | None = None, token: str | None = None, user: str | None = None) -> None:
        settings = Settings.from_env()
        self.server = (server or settings.server).rstrip("/")
        self.token = token if token is not None else settings.admin_token
        self.user = user or settings.user
        if not self.token:
            raise ConfigError(f"set {ADMIN_TOKEN_VARIABLE} to the admin token the server was started with")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.server}/admin{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "X-Modelport-User": self.user})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                return dict(json.loads(answer.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise self._error(exc.code, exc.read()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServingError(f"cannot reach the server at {self.server} ({reason}); is it running? "
                               "(--server URL or $MODELPORT_SERVER)") from None

    def _error(self, status: int, raw: bytes) -> ModelportError:
        try:
            message = str(json.loads(raw).get("error", raw.decode(errors="replace")))
        except (ValueError, AttributeError):
            message = raw.decode(errors="replace")
        if status == 401:
            return ConfigError(f"the server at {self.server} refused the admin token: {ADMIN_TOKEN_VARIABLE} "
                               "must be the token the server was started with")
        if status == 403:
            return ConfigError(f"the server at {self.server} refuses admin calls: {message}")
        if status == 404:
            return NotFoundError(message)
        if status == 400:
            return ConfigError(message)
        if status == 409:
            return RegistryError(message)
        return ModelportError(f"the server at {self.server} answered {status}: {message}")
