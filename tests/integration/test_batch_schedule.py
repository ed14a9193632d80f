"""``modelport batch --schedule``: a CronJob for the same run, checked offline with kubernetes-validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import modelport
from modelport.deploy.cronjob import KUBERNETES_VERSION, validate
from modelport.errors import DeployError
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.artifacts import small_classifier
from tests.integration.batch_files import batch

pytest.importorskip("kubernetes_validate")


@pytest.fixture(scope="module")
def small_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small") / "small"
    small_classifier(root)
    return root


def _container(manifest: dict[str, object]) -> dict[str, object]:
    pod = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[index]
    assert len(pod["containers"]) == 1
    return pod["containers"][0]  # type: ignore[no-any-return]


def test_the_cronjob_runs_the_same_batch_resumably_and_validates(small_path: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_IMAGE_REGISTRY", "registry.example.com/ml/")
    result = batch(small_path, "/data/in/*.parquet", "/data/out", "--workers", 2, "--chunk-rows", 1000,
                   "--id-column", "key", "--log-sample-rate", 0.25, "--schedule", "0 2 * * *",
                   "--volume", "batch-data:/data", "--env", "MODELPORT_HOME=/data/modelport",
                   "--namespace", "ml", "--time-zone", "Europe/Paris",
                   "--schedule-out", tmp_path / "cron.yaml")
    assert result.exit_code == 0, result.output
    assert not Path("/data/out").exists()  # nothing ran
    manifest = yaml.safe_load((tmp_path / "cron.yaml").read_text())
    validate(manifest, KUBERNETES_VERSION)
    assert (manifest["kind"], manifest["metadata"]["name"], manifest["metadata"]["namespace"]) == \
        ("CronJob", "modelport-batch-small", "ml")
    spec = manifest["spec"]
    assert (spec["schedule"], spec["concurrencyPolicy"], spec["timeZone"]) == ("0 2 * * *", "Forbid",
                                                                               "Europe/Paris")
    container = _container(manifest)
    digest = modelport.load(small_path).digest
    assert container["image"] == f"registry.example.com/ml/modelport-small:{digest[:12]}"
    assert container["command"] == ["modelport"]
    args = container["args"]
    assert args[:4] == ["batch", "/artifact", "/data/in/*.parquet", "/data/out/$(MODELPORT_JOB)"]
    assert args[-1] == "--resume"
    joined = " ".join(args)
    for option in ("--workers 2", "--chunk-rows 1000", "--id-column key", "--log-sample-rate 0.25"):
        assert option in joined
    env = {e["name"]: e for e in container["env"]}
    assert env["MODELPORT_JOB"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.labels['batch.kubernetes.io/job-name']"
    assert env["MODELPORT_HOME"]["value"] == "/data/modelport"
    assert container["volumeMounts"] == [{"name": "data-0", "mountPath": "/data"}]
    assert container["resources"] == {"requests": {"cpu": "2"}}


def test_a_registry_ref_is_scheduled_under_its_name_and_version(small_path: Path) -> None:
    with Registry(Settings.from_env().registry_config()) as registry:
        registry.register(small_path)
        registry.set_alias("small", "production", 1)
    result = batch("small@production", "/in.csv", "/out", "--schedule", "@daily", "--image", "me/small:1")
    assert result.exit_code == 0, result.output
    container = _container(yaml.safe_load(result.stdout))
    assert container["image"] == "me/small:1"
    assert "--model-version small:1" in " ".join(container["args"])


@pytest.mark.parametrize(("schedule", "says"), [
    ("0 2 * *", "has 4 fields"),
    ("61 2 * * *", "the minute field '61' is not valid: 61 is outside 0-59"),
    ("0 2 * * mon-xyz", "the day of week field 'mon-xyz'"),
    ("*/0 * * * *", "step '0'"),
    ("CRON_TZ=UTC 0 2 * * *", "--time-zone"),
])
def test_a_broken_schedule_is_refused_with_the_reason(small_path: Path, schedule: str, says: str) -> None:
    result = batch(small_path, "/in.csv", "/out", "--schedule", schedule)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_relative_paths_and_bad_names_are_refused(small_path: Path) -> None:
    relative = batch(small_path, "in.csv", "/out", "--schedule", "0 2 * * *")
    assert relative.exit_code == 2
    assert "INPUT 'in.csv' must be an absolute path inside the container" in relative.output
    volume = batch(small_path, "/in.csv", "/out", "--schedule", "0 2 * * *", "--volume", "data")
    assert "expected CLAIM:/MOUNT/PATH" in volume.output


def test_the_offline_check_names_the_bad_field(small_path: Path, tmp_path: Path) -> None:
    result = batch(small_path, "/in.csv", "/out", "--schedule", "0 2 * * *")
    manifest = yaml.safe_load(result.stdout)
    manifest["spec"]["concurrencyPolicy"] = 3
    with pytest.raises(DeployError, match="spec.concurrencyPolicy"):
        validate(manifest)
