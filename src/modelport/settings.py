"""The only reader of MODELPORT_* environment variables: one frozen Settings for everything."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modelport.registry.config import RegistryConfig

HOME_VARIABLE = "MODELPORT_HOME"
REGISTRY_URL_VARIABLE = "MODELPORT_REGISTRY_URL"
ARTIFACTS_VARIABLE = "MODELPORT_ARTIFACTS"
USER_VARIABLE = "MODELPORT_USER"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass(frozen=True)
class Settings:
    """Where modelport keeps its state and who is acting, read once from the environment."""

    home: Path
    #: None: the embedded SQLite database ``home/registry.db``
    registry_url: str | None
    #: where artifacts are stored: a folder (default ``home/artifacts``) or a store plugin's URL
    artifacts: str
    #: who registry changes are recorded as made by
    user: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get(HOME_VARIABLE) or Path.home() / ".modelport").expanduser()
        return cls(
            home=home,
            registry_url=env.get(REGISTRY_URL_VARIABLE) or None,
            artifacts=env.get(ARTIFACTS_VARIABLE) or str(home / "artifacts"),
            user=env.get(USER_VARIABLE) or _os_user(),
        )

    def registry_config(self) -> RegistryConfig:
        url = self.registry_url or f"sqlite:///{self.home / 'registry.db'}"
        return RegistryConfig(url=url, artifacts=self.artifacts, user=self.user)
