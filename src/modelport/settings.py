"""The only reader of MODELPORT_* environment variables: one frozen Settings for everything."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modelport.registry.config import RegistryConfig
from modelport.rollout.plan import EndpointPlan, collect_plans

HOME_VARIABLE = "MODELPORT_HOME"
REGISTRY_URL_VARIABLE = "MODELPORT_REGISTRY_URL"
ARTIFACTS_VARIABLE = "MODELPORT_ARTIFACTS"
USER_VARIABLE = "MODELPORT_USER"
LOG_SALT_VARIABLE = "MODELPORT_LOG_SALT"
IMAGE_REGISTRY_VARIABLE = "MODELPORT_IMAGE_REGISTRY"
ADMIN_TOKEN_VARIABLE = "MODELPORT_ADMIN_TOKEN"
INFERENCE_TOKEN_VARIABLE = "MODELPORT_INFERENCE_TOKEN"
SERVER_VARIABLE = "MODELPORT_SERVER"


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
    #: the secret mixed into hashed prediction-log columns (``--log-hash``)
    log_salt: str = ""
    #: the container registry images are pushed to (``registry.example.com/team``); "" for none
    image_registry: str = ""
    #: the bearer token of the server's admin API (None: the admin API refuses every call)
    admin_token: str | None = None
    #: when set, prediction requests must carry it as a bearer token
    inference_token: str | None = None
    #: the server ``modelport rollout`` talks to (``--server`` wins)
    server: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get(HOME_VARIABLE) or Path.home() / ".modelport").expanduser()
        return cls(
            home=home,
            registry_url=env.get(REGISTRY_URL_VARIABLE) or None,
            artifacts=env.get(ARTIFACTS_VARIABLE) or str(home / "artifacts"),
            user=env.get(USER_VARIABLE) or _os_user(),
            log_salt=env.get(LOG_SALT_VARIABLE, ""),
            image_registry=env.get(IMAGE_REGISTRY_VARIABLE, "").rstrip("/"),
            admin_token=env.get(ADMIN_TOKEN_VARIABLE) or None,
            inference_token=env.get(INFERENCE_TOKEN_VARIABLE) or None,
            server=env.get(SERVER_VARIABLE) or "http://127.0.0.1:8000",
        )

    @property
    def predictions(self) -> Path:
        """Where the prediction log and its feedback are kept: ``home/predictions``."""
        return self.home / "predictions"

    def registry_config(self) -> RegistryConfig:
        url = self.registry_url or f"sqlite:///{self.home / 'registry.db'}"
        return RegistryConfig(url=url, artifacts=self.artifacts, user=self.user)


#: keys a ``modelport serve --config`` file may hold, with the type each value must have.
SERVE_KEYS: dict[str, tuple[type, ...]] = {
    "host": (str,), "port": (int,), "workers": (int,), "device": (str,),
    "max_batch_size": (int,), "max_batch_delay_ms": (int, float), "max_queue": (int,),
    "max_body_bytes": (int,), "request_timeout": (int, float), "stall_timeout": (int, float),
    "drain_timeout": (int, float), "allow_env_mismatch": (bool,), "log_level": (str,),
    "log_predictions": (bool,), "log_sample_rate": (int, float), "log_exclude": (list,),
    "log_hash": (list,), "log_flush_interval": (int, float), "inline_below_ms": (int, float),
    "dashboard": (bool,), "monitor_interval": (int, float), "monitor_range": (str,),
    "shadow_queue": (int,), "keep_warm": (int, float), "plan_poll": (int, float),
    "canary_tick": (int, float),
}


@dataclass(frozen=True)
class ServeModel:
    """One model of a serve file: a registry reference or path, and the name to serve it under."""

    ref: str
    name: str | None = None


@dataclass(frozen=True)
class ServeFile:
    """A ``modelport serve --config`` YAML file: models to serve, server options and endpoint plans."""

    models: tuple[ServeModel, ...]
    options: dict[str, object]
    #: deployment plans (primary, canary, shadows, A/B arms) by endpoint, from ``endpoints:``
    endpoints: tuple[EndpointPlan, ...] = ()


def read_serve_file(path: str | Path) -> ServeFile:
    """Parse a serve file, naming every unknown key and every value of the wrong type at once.

    ::

        models:
          - credit@production              # any registry reference or artifact path
          - {ref: churn:3, name: churn-v3}  # served under another name
        port: 8080
        workers: 2
        max_batch_size: 64
        endpoints:                          # optional: traffic plans (see modelport.rollout.plan)
          credit:
            primary: credit@production
            canary: {ref: credit:4, steps: [1, 5, 25, 50, 100], interval: 5m}
            shadows: [credit:5]
    """
    import yaml

    from modelport.errors import ConfigError

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    problems: list[str] = []
    models: list[ServeModel] = []
    for index, entry in enumerate(data.pop("models", None) or []):
        if isinstance(entry, str):
            models.append(ServeModel(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("ref"), str) and set(entry) <= {"ref", "name"} \
                and isinstance(entry.get("name", ""), str):
            models.append(ServeModel(entry["ref"], entry.get("name")))
        else:
            problems.append(f"models[{index}] must be a reference or {{ref: ..., name: ...}}, got {entry!r}")
    endpoints: tuple[EndpointPlan, ...] = ()
    if data.get("endpoints") is not None:
        endpoints, found = collect_plans(data.pop("endpoints"))
        problems.extend(found)
    data.pop("endpoints", None)
    for key, value in data.items():
        kinds = SERVE_KEYS.get(key)
        if kinds is None:
            problems.append(f"unknown setting {key!r} (known: models, endpoints, {', '.join(SERVE_KEYS)})")
        elif not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            wanted = " or ".join(kind.__name__ for kind in kinds)
            problems.append(f"{key} must be {wanted}, got {value!r}")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return ServeFile(tuple(models), dict(data), endpoints)
