"""A Kubernetes CronJob that runs one ``modelport batch`` command on a schedule, built as plain data.

The manifest is a dict, dumped with PyYAML and checked offline against the Kubernetes OpenAPI
schemas that kubernetes-validate ships (strict: an unknown field is an error). The container runs
the image ``modelport dockerfile`` builds for the artifact (the artifact at ``/artifact``, verified
at build time); the batch command is given ``--resume`` and writes to a folder named after the
Job: a pod that Kubernetes retries after a crash or an eviction resumes its Job's run where it
stopped, and the next scheduled Job starts a run of its own. ``concurrencyPolicy: Forbid`` keeps a
slow run from overlapping the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelport.deploy.cron import check_schedule
from modelport.errors import ConfigError, DeployError, MissingDependencyError

#: the Kubernetes version whose schemas the manifest is checked against (kubernetes-validate ships
#: 1.25 onward; the Job-name label read below is set from 1.27 on)
KUBERNETES_VERSION = "1.32"
#: the environment variable holding the Job's name, for ``$(MODELPORT_JOB)`` in the arguments
JOB_VARIABLE = "MODELPORT_JOB"
JOB_LABEL = "batch.kubernetes.io/job-name"
#: a DNS-1123 label; a CronJob's name must leave 11 characters for the Jobs' suffix
NAME_MAX = 52


@dataclass(frozen=True)
class Volume:
    """A PersistentVolumeClaim mounted into the container (where the input and output live)."""

    claim: str
    mount: str

    @classmethod
    def parse(cls, text: str) -> Volume:
        claim, colon, mount = text.partition(":")
        if not colon or not claim or not mount.startswith("/"):
            raise ConfigError(f"volume {text!r}: expected CLAIM:/MOUNT/PATH")
        return cls(claim, mount)


@dataclass(frozen=True)
class CronJobSpec:
    """What the CronJob runs, when, and where: ``args`` follow ``modelport`` in the container."""

    name: str
    schedule: str
    image: str
    args: tuple[str, ...]
    namespace: str | None = None
    time_zone: str | None = None
    volumes: tuple[Volume, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    #: CPU cores to request (the batch's --workers); None: no request
    cpu: int | None = None
    backoff_limit: int = 3
    labels: dict[str, str] = field(default_factory=dict)


def _check_name(name: str) -> str:
    ok = (0 < len(name) <= NAME_MAX and name[0].isalnum() and name[-1].isalnum()
          and all(c.islower() or c.isdigit() or c == "-" for c in name))
    if not ok:
        raise ConfigError(f"{name!r} cannot name a CronJob: lower-case letters, digits and '-', "
                          f"starting and ending with a letter or digit, at most {NAME_MAX} characters")
    return name


def job_name(model: str) -> str:
    """A CronJob name from a model name: ``modelport-batch-<model>``, made DNS-safe."""
    safe = "".join(c if c.isalnum() else "-" for c in model.lower()).strip("-")
    return f"modelport-batch-{safe}"[:NAME_MAX].rstrip("-")


def cronjob(spec: CronJobSpec) -> dict[str, Any]:
    """The CronJob manifest as data."""
    labels = {"app.kubernetes.io/name": "modelport-batch", "app.kubernetes.io/managed-by": "modelport",
              **spec.labels}
    env: list[dict[str, Any]] = [{"name": JOB_VARIABLE, "valueFrom": {"fieldRef": {
        "fieldPath": f"metadata.labels['{JOB_LABEL}']"}}}]
    env += [{"name": key, "value": value} for key, value in spec.env]
    container: dict[str, Any] = {
        "name": "batch", "image": spec.image, "imagePullPolicy": "IfNotPresent",
        "command": ["modelport"], "args": list(spec.args), "env": env,
    }
    if spec.cpu is not None:
        container["resources"] = {"requests": {"cpu": str(spec.cpu)}}
    if spec.volumes:
        container["volumeMounts"] = [{"name": f"data-{i}", "mountPath": v.mount}
                                     for i, v in enumerate(spec.volumes)]
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    if spec.volumes:
        pod["volumes"] = [{"name": f"data-{i}", "persistentVolumeClaim": {"claimName": v.claim}}
                          for i, v in enumerate(spec.volumes)]
    metadata: dict[str, Any] = {"name": _check_name(spec.name), "labels": labels}
    if spec.namespace:
        metadata["namespace"] = spec.namespace
    cron: dict[str, Any] = {
        "schedule": check_schedule(spec.schedule),
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {"metadata": {"labels": dict(labels)}, "spec": {
            "backoffLimit": spec.backoff_limit,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
        }},
    }
    if spec.time_zone:
        cron["timeZone"] = spec.time_zone
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": cron}


def validate(manifest: dict[str, Any], version: str = KUBERNETES_VERSION) -> None:
    """Check ``manifest`` against the Kubernetes ``version`` schemas, strictly; DeployError if not."""
    try:
        from kubernetes_validate import utils
    except ImportError as exc:
        raise MissingDependencyError("kubernetes-validate", "deploy") from exc
    try:
        utils.validate(manifest, version, strict=True)
    except utils.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path) or "(top)"
        raise DeployError("validating the CronJob manifest", f"{where}: {exc.message}") from exc
    except (utils.SchemaNotFoundError, utils.VersionNotSupportedError) as exc:
        raise DeployError("validating the CronJob manifest", exc.message) from exc


def to_yaml(manifest: dict[str, Any]) -> str:
    import yaml

    return str(yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False))


def batch_args(ref: str, source: str, output: str, options: Sequence[str]) -> tuple[str, ...]:
    """``batch REF INPUT OUTPUT/$(MODELPORT_JOB) OPTIONS --resume``: each Job its own resumable run."""
    for what, path in (("INPUT", source), ("OUTPUT", output)):
        if not path.startswith("/"):
            raise ConfigError(f"{what} {path!r} must be an absolute path inside the container (mount "
                              "its volume with --volume CLAIM:/PATH)")
    return ("batch", ref, source, f"{output.rstrip('/')}/$({JOB_VARIABLE})", *options, "--resume")
