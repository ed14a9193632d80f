"""``modelport serve --config``: the YAML file's models and settings, and how the command line wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport.cli.serve_commands import build_spec, merge_settings
from modelport.errors import ConfigError
from modelport.serving.workers import ModelSource, WorkerSpec
from modelport.settings import ServeModel, Settings, read_serve_file


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(text)
    return path


def test_models_and_settings_are_read(tmp_path: Path) -> None:
    found = read_serve_file(_write(tmp_path, """
models:
  - credit@production
  - {ref: churn:3, name: churn-v3}
port: 8080
workers: 3
max_batch_delay_ms: 1.5
allow_env_mismatch: true
"""))
    assert found.models == (ServeModel("credit@production"), ServeModel("churn:3", "churn-v3"))
    assert found.options == {"port": 8080, "workers": 3, "max_batch_delay_ms": 1.5,
                             "allow_env_mismatch": True}


def test_every_bad_entry_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_serve_file(_write(tmp_path, """
models:
  - {ref: churn:3, weight: 2}
port: "8080"
workers: true
batch_size: 4
"""))
    message = str(caught.value)
    assert "models[0] must be a reference" in message
    assert "port must be int, got '8080'" in message
    assert "workers must be int, got True" in message
    assert "unknown setting 'batch_size'" in message


@pytest.mark.parametrize(("text", "problem"), [
    ("- a\n- b\n", "must hold a mapping"),
    ("port: [1\n", "not valid YAML"),
])
def test_a_file_that_is_not_a_settings_mapping_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        read_serve_file(_write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read .*nothing.yaml"):
        read_serve_file(tmp_path / "nothing.yaml")


def test_command_line_wins_over_the_file_which_wins_over_defaults() -> None:
    merged = merge_settings({"port": 8080, "workers": 3, "max_queue": 10},
                            {"port": 9000, "workers": None, "host": None})
    assert merged == {"port": 9000, "workers": 3, "max_queue": 10}
    source = ModelSource("/a", "a", "1")
    spec, workers = build_spec((source,), merged | {"request_timeout": 5, "device": "cuda:1"})
    assert workers == 3
    assert (spec.config.port, spec.config.max_queue, spec.config.request_timeout_s) == (9000, 10, 5)
    assert spec.config.max_batch_size == 64  # the default
    assert spec.device == "cuda:1"
    assert spec.models == (source,)


@pytest.mark.parametrize(("settings", "problem"), [
    ({"device": "gpu"}, "device must be cpu, cuda, cuda:N or auto, got 'gpu'"),
    ({"workers": 0}, "workers must be at least 1"),
    ({"max_batch_size": 0}, "max_batch_size must be at least 1"),
    ({"stall_timeout": 0}, "stall_timeout_s must be positive"),
])
def test_bad_settings_are_refused_with_their_name(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        build_spec((), settings)


def test_endpoint_plans_are_read_beside_models_and_settings(tmp_path: Path) -> None:
    found = read_serve_file(_write(tmp_path, """
models: [credit@production]
port: 8080
endpoints:
  credit:
    primary: credit@production
    canary: {ref: credit:4, steps: "1,5,25,50,100", interval: 5m, gates: {min_requests: 200}}
    shadows: [credit:5]
  pricing:
    ab: {arms: {a: pricing:1, b: pricing:2}, split: 50, key: "field:user_id"}
"""))
    assert found.options == {"port": 8080}
    assert [plan.endpoint for plan in found.endpoints] == ["credit", "pricing"]
    credit = found.endpoints[0]
    assert credit.canary is not None
    assert (credit.canary.ref, credit.canary.interval_s, credit.canary.gates.min_requests) == \
        ("credit:4", 300.0, 200)
    assert read_serve_file(_write(tmp_path, "models: [a]\n")).endpoints == ()


def test_plan_problems_are_named_with_the_other_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_serve_file(_write(tmp_path, """
port: "8080"
endpoints:
  credit:
    primary: credit:3
    canary: {ref: credit:4, steps: [50, 5]}
"""))
    message = str(caught.value)
    assert "port must be int, got '8080'" in message
    assert "endpoints.credit.canary.steps: must rise strictly" in message


def _monitor(spec: WorkerSpec) -> list[tuple[str, dict[str, object]]]:
    return [(e.factory, dict(e.options)) for e in spec.extensions if e.factory.endswith("monitor:extension")]


def test_the_monitoring_extension_follows_the_log_and_its_settings() -> None:
    spec, _ = build_spec((), {"monitor_interval": 5, "monitor_range": "6h", "dashboard": False})
    assert _monitor(spec) == [
        ("modelport.app.monitor:extension", {"dashboard": False, "interval_s": 5.0, "range": "6h"})]
    assert _monitor(build_spec((), {})[0])[0][1]["interval_s"] == 60.0
    assert _monitor(build_spec((), {"log_predictions": False})[0]) == []
    assert _monitor(build_spec((), {"dashboard": False, "monitor_interval": 0})[0]) == []
    with pytest.raises(ConfigError, match="monitor_interval"):
        build_spec((), {"monitor_interval": -1})


def test_every_server_follows_endpoint_plans_with_the_admin_token_of_its_environment(tmp_path: Path) -> None:
    environment = Settings.from_env({"MODELPORT_HOME": str(tmp_path), "MODELPORT_ADMIN_TOKEN": "t0ken",
                                     "MODELPORT_INFERENCE_TOKEN": "inf-t0ken"})
    spec, _ = build_spec((), {"keep_warm": 30, "canary_tick": 0, "log_predictions": False}, environment)
    (rollout,) = spec.extensions
    assert rollout.factory == "modelport.app.rollout:extension"
    assert rollout.options["admin_token"] == "t0ken"
    assert (rollout.options["keep_warm_s"], rollout.options["canary_tick_s"]) == (30.0, 0.0)
    assert rollout.options["registry"]["url"] == f"sqlite:///{tmp_path / 'registry.db'}"
    assert spec.config.inference_token == "inf-t0ken"
    assert "inf-t0ken" not in repr(spec.config)
    with pytest.raises(ConfigError, match="keep_warm"):
        build_spec((), {"keep_warm": -1}, environment)
