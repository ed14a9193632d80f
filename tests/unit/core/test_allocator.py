"""The command line's process allocates Arrow's memory through jemalloc unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modelport.core import allocator

PROBE = ("import sys, modelport\n"
         "assert 'pyarrow' not in sys.modules, 'import modelport loaded pyarrow'\n"
         "import modelport.cli.main\n"
         "import pyarrow\n"
         "print(pyarrow.default_memory_pool().backend_name)\n")


def _backend(environment: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != allocator.VARIABLE} | environment
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(not allocator.ENVIRONMENT, reason="pyarrow ships jemalloc on Linux only")
def test_the_command_line_takes_jemalloc_before_pyarrow_loads() -> None:
    assert _backend({}) == "jemalloc"


def test_a_user_s_own_choice_wins() -> None:
    assert _backend({allocator.VARIABLE: "system"}) == "system"


def test_too_late_once_pyarrow_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow  # noqa: F401  (loaded, as in this test process already)

    monkeypatch.delenv(allocator.VARIABLE, raising=False)
    assert allocator.prefer_for_this_process() is False
    assert allocator.VARIABLE not in os.environ
