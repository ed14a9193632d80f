"""The exception tree of modelport; domain errors carry data, never an HTTP status.

::

    ModelportError
    ├── SchemaError (ValueError)             raw input does not match the signature; .problems
    ├── ArtifactError
    │   ├── ArtifactFormatError (ValueError) not an artifact, bad manifest, bad path
    │   ├── IntegrityError                   a file changed, is missing or unexpected; .path
    │   ├── UnsafeArtifactError              a pickle or untrusted type would be loaded
    │   ├── EnvironmentMismatchError         the environment differs from the lock; .differences
    │   └── GoldenCheckError                 golden rows predict differently; .rows, .max_difference
    ├── FlavorError (ValueError)             no flavor fits, or a flavor cannot handle the model
    ├── PredictionError                      the model itself raised while predicting; .error_id
    ├── RegistryError
    │   ├── RefError (ValueError)            a model reference that cannot be parsed
    │   ├── NotFoundError (LookupError)      unknown name, version, alias or digest
    │   ├── ArchivedVersionError             the version is archived and cannot be served or aliased
    │   └── RegistryUnavailableError         the registry database cannot be reached
    ├── DeployError                          a virtualenv or build context could not be made; .step, .output
    ├── BatchError                           a batch run cannot start, resume or go on
    │   └── RejectRateError                  too many rows were rejected; .rejected, .rows, .max_rate
    ├── ServingError
    │   ├── ProtocolError (ValueError)       a request body that is not a valid message of its protocol
    │   ├── RequestTooLargeError             a request body above the configured limit; .limit
    │   ├── NotReadyError                    the model is loading or failed its checks; .model, .reason
    │   ├── OverloadedError                  the model's request queue is full; .model, .retry_after
    │   └── DeadlineExceededError            a request outlived its deadline; .seconds
    ├── ConfigError (ValueError)             a settings file that cannot be read or holds a bad value
    ├── AlertsFiredError                     a monitoring report fired alerts; .alerts
    ├── InsufficientDataError (ValueError)   the log holds too little to analyse (an arm without outcomes)
    └── MissingDependencyError (ImportError) an optional extra is not installed; .pip_command

Adapters (HTTP, CLI) own the one table that maps these to status and exit codes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


class ModelportError(Exception):
    """Base class of every error modelport raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of a raw input."""

    field: str
    problem: str
    rows: tuple[int, ...] = dataclasses.field(default=())

    def __str__(self) -> str:
        where = ""
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            where = f" (rows {shown}{more})"
        return f"{self.field}: {self.problem}{where}"


class SchemaError(ModelportError, ValueError):
    """Raw input violates the signature; every problem is listed at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"input does not match the signature: {lines}")


class ArtifactError(ModelportError):
    """Something is wrong with an artifact on disk."""


class ArtifactFormatError(ArtifactError, ValueError):
    """The folder or file is not a readable modelport artifact."""


class IntegrityError(ArtifactError):
    """A file of the artifact does not match the digest its manifest records."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"artifact file {path!r} {reason}")


class UnsafeArtifactError(ArtifactError):
    """Loading would execute untrusted code (a pickle, or a type nobody accepted)."""


class EnvironmentMismatchError(ArtifactError):
    """The running environment differs from the artifact's lock where it matters."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = list(differences)
        super().__init__(
            "the running environment differs from the artifact's requirements.lock: "
            + "; ".join(self.differences)
            + " (pass allow_env_mismatch=True / --allow-env-mismatch to load anyway)"
        )


class GoldenCheckError(ArtifactError):
    """The golden rows do not reproduce their packed outputs in this environment."""

    def __init__(
        self, rows: list[int], max_difference: float, tolerance: float, environment: list[str]
    ) -> None:
        self.rows = list(rows)
        self.max_difference = max_difference
        self.tolerance = tolerance
        self.environment = list(environment)
        env = "; ".join(environment) if environment else "no environment differences found"
        super().__init__(
            f"golden check failed on rows {self.rows}: largest difference {max_difference:.6g} "
            f"exceeds tolerance {tolerance:.3g}; environment: {env}"
        )


class FlavorError(ModelportError, ValueError):
    """No flavor can handle the model, or the chosen one cannot."""


class PredictionError(ModelportError):
    """The model raised while predicting on input that passed validation."""

    def __init__(self, message: str, error_id: str) -> None:
        self.error_id = error_id
        super().__init__(f"{message} (error id {error_id})")


class RegistryError(ModelportError):
    """Base class of registry failures."""


class RefError(RegistryError, ValueError):
    """A model reference that cannot be parsed."""


class NotFoundError(RegistryError, LookupError):
    """An unknown model name, version, alias or digest."""


class ArchivedVersionError(RegistryError):
    """The version is archived: kept, but not served or aliased."""


class RegistryUnavailableError(RegistryError):
    """The registry database cannot be reached."""


class DeployError(ModelportError):
    """A deployment target (a virtualenv, a container build context) could not be made."""

    def __init__(self, step: str, reason: str, output: str = "") -> None:
        self.step = step
        self.reason = reason
        self.output = output
        detail = f"\n{output}" if output else ""
        super().__init__(f"{step} failed: {reason}{detail}")
class ConfigError(ModelportError, ValueError):
    """A settings file (``modelport serve --config``) is unreadable, or names an unknown or bad value."""


class AlertsFiredError(ModelportError):
    """A monitoring report found something that needs attention (drift, degradation, errors)."""

    def __init__(self, alerts: list[str]) -> None:
        self.alerts = list(alerts)
        shown = "; ".join(self.alerts[:5])
        more = f"; and {len(self.alerts) - 5} more" if len(self.alerts) > 5 else ""
        super().__init__(f"{len(self.alerts)} alert(s) fired: {shown}{more}")


class InsufficientDataError(ModelportError, ValueError):
    """The prediction log (or its feedback) holds too little to analyse: no shadow rows, an A/B arm
    without outcomes, outcomes that are not numbers."""


class BatchError(ModelportError):
    """A batch run cannot start, resume or go on (its output, its input, or a worker process)."""


class RejectRateError(BatchError):
    """More rows failed validation than the run allows."""

    def __init__(self, rejected: int, rows: int, max_rate: float) -> None:
        self.rejected = rejected
        self.rows = rows
        self.max_rate = max_rate
        super().__init__(f"{rejected} of {rows} rows were rejected ({rejected / max(rows, 1):.2%}), "
                         f"more than the allowed {max_rate:.2%}; the rejects file lists why")


class ServingError(ModelportError):
    """Base class of failures that belong to answering a request, not to the model or artifact."""


class ProtocolError(ServingError, ValueError):
    """The body is not valid JSON/CSV, or not a valid message of the protocol it was sent to."""


class RequestTooLargeError(ServingError):
    """The request body is larger than the server accepts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body exceeds the limit of {limit} bytes")


class NotReadyError(ServingError):
    """The model version cannot take traffic: still loading, or it failed a check."""

    def __init__(self, model: str, reason: str, retry_after: float = 1.0) -> None:
        self.model = model
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"model {model} is not ready: {reason}")


class OverloadedError(ServingError):
    """The model's request queue is full; the caller should retry later."""

    def __init__(self, model: str, queued: int, retry_after: float = 1.0) -> None:
        self.model = model
        self.queued = queued
        self.retry_after = retry_after
        super().__init__(f"model {model} is overloaded: {queued} requests queued")


class DeadlineExceededError(ServingError, TimeoutError):
    """The request did not get its prediction within the configured time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no prediction within {seconds:g} s")


class MissingDependencyError(ModelportError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        self.pip_command = f"pip install 'modelport[{extra}]'"
        super().__init__(f"{package} is not installed: {self.pip_command}")
