"""The README's quickstart runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text()
    head = text[: text.index("## Quickstart")]
    assert "make demo" in head
    assert "make test" in head


def test_quickstart_python_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python block"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "['yes']" in out or "['no']" in out
    assert "('age', \"expected an integer, got str 'forty'\")" in out
    assert "('home', \"unknown category 'castle'" in out
    assert (tmp_path / "loans-artifact" / "manifest.json").is_file()
