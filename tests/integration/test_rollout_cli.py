"""``modelport rollout`` against a real server: shadow, canary, status, promote, abort, rollback, and
the errors a user sees for a wrong token, a missing server and an action that does not apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from modelport.cli.main import app
from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.rollout_models import TOKEN, config, pack_versions, register
from tests.serving_processes import serve

runner = CliRunner()


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return pack_versions(tmp_path_factory.mktemp("numbers"))


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_rollout_commands_drive_a_running_server(versions: list[Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("MODELPORT_USER", "ana")
    register(versions)
    plans = "endpoints:\n  scoring: numbers@production\ncanary_tick: 0\n"
    with serve("serve", "--config", str(config(tmp_path, plans))) as server:
        url = server.url
        shadowed = _run("rollout", "shadow", "scoring", "numbers:3", "--server", url)
        assert shadowed.exit_code == 0, shadowed.output
        assert "shadow   numbers:3" in shadowed.output
        canary = _run("rollout", "canary", "scoring", "numbers:2", "--steps", "10,50,100", "--interval", "1m",
                      "--min-requests", "50", "--max-error-rate", "0.02", "--max-p99-ratio", "1.3",
                      "--max-disagreement", "0.1", "--server", url, "--reason", "new features")
        assert canary.exit_code == 0, canary.output
        assert "canary   numbers:2 at 10%" in canary.output
        status = _run("rollout", "status", "scoring", "--server", url, "--json")
        assert status.exit_code == 0, status.output
        assert '"max_disagreement": 0.1' in status.output
        promoted = _run("rollout", "promote", "scoring", "--server", url, "--reason", "by hand")
        assert promoted.exit_code == 0, promoted.output
        assert "promote (numbers:1 -> numbers:2)" in promoted.output
        nothing = _run("rollout", "abort", "scoring", "--server", url)
        assert nothing.exit_code == 1
        assert "has no canary to abort" in nothing.output
        back = _run("rollback", "scoring", "--server", url, "--reason", "bad numbers")
        assert back.exit_code == 0, back.output
        assert "numbers:2 -> numbers:1" in back.output
        # each new A/B test gets its own salt (users reshuffled); the same test with a new split keeps it
        salts = []
        for arms, split in ((("numbers:1", "numbers:2"), "50"), (("numbers:1", "numbers:2"), "30"),
                            (("numbers:1", "numbers:3"), "50")):
            ab = _run("rollout", "ab", "pricing", *arms, "--split", split, "--server", url, "--json")
            assert ab.exit_code == 0, ab.output
            salts.append(json.loads(ab.output)["plan"]["ab"]["salt"])
        assert salts[0] == salts[1] != salts[2]
        fixed = _run("rollout", "ab", "pricing", "numbers:1", "numbers:3", "--salt", "q3-pricing",
                     "--server", url)
        assert fixed.exit_code == 0, fixed.output
        assert "salt q3-pricing" in fixed.output
        unknown = _run("rollout", "promote", "nowhere", "--server", url)
        assert unknown.exit_code == 3
        assert "nowhere" in unknown.output
        monkeypatch.setenv("MODELPORT_ADMIN_TOKEN", "wrong")
        refused = _run("rollout", "status", "--server", url)
        assert refused.exit_code == 2
        assert "refused the admin token" in refused.output
    gone = _run("rollout", "status", "--server", url)
    assert gone.exit_code == 1
    assert "cannot reach the server" in gone.output
    registry = Registry(Settings.from_env().registry_config())
    changes = registry.endpoints.history("scoring")
    assert [(c.action, c.who, c.reason) for c in changes] == [
        ("declare", "ana", f"declared in {tmp_path / 'serve.yaml'}"), ("put", "ana", "shadow numbers:3"),
        ("put", "ana", "new features"), ("promote", "ana", "by hand"), ("rollback", "ana", "bad numbers")]
    assert registry.aliases_of("numbers")["production"] == 1
