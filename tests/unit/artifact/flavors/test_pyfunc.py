"""The pyfunc flavor: which classes it packs, what it refuses, and that code runs only verified."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import modelport
from modelport.artifact.flavors import flavor_for_file, flavor_for_model
from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.artifact.pycode import import_file
from modelport.cli.main import app
from modelport.errors import FlavorError, IntegrityError
from modelport.inference.pack import pack_file

SAMPLE = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.0, -0.5, 1.0]})

CONSTANT = """
import numpy as np


class Constant:
    def predict(self, frame):
        return np.full(len(frame), {value})
"""


def write(folder: Path, name: str, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return path


def user_module(path: Path) -> Any:
    return import_file(path, f"user_{path.stem}_{abs(hash(str(path)))}")


def test_packs_an_instance_and_loads_it_from_the_packed_copy(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "constant.py", CONSTANT.format(value=7.0))
    model = user_module(code).Constant()
    assert flavor_for_model(model).name == "pyfunc"
    artifact = modelport.pack(model, name="c", sample=SAMPLE, out=tmp_path / "art")
    code.unlink()  # the artifact must not need the user's file any more
    loaded = modelport.load(artifact.path)
    assert loaded.predict(SAMPLE).tolist() == [7.0] * 4
    assert (artifact.path / "model" / "constant.py").is_file()
    assert type(loaded.model) is not type(model)


def test_two_artifacts_of_same_named_code_load_side_by_side(tmp_path: Path) -> None:
    loaded = []
    for value in (1.0, 2.0):
        code = write(tmp_path / f"src{value}", "constant.py", CONSTANT.format(value=value))
        artifact = modelport.pack(user_module(code).Constant(), name="c", sample=SAMPLE,
                                  out=tmp_path / f"art{value}")
        loaded.append(modelport.load(artifact.path))
    assert [m.predict(SAMPLE)[0] for m in loaded] == [1.0, 2.0]
    assert type(loaded[0].model).__module__ != type(loaded[1].model).__module__


def test_tampered_code_is_refused_before_it_runs(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "constant.py", CONSTANT.format(value=1.0))
    artifact = modelport.pack(user_module(code).Constant(), name="c", sample=SAMPLE,
                              out=tmp_path / "art")
    marker = tmp_path / "ran"
    packed = artifact.path / "model" / "constant.py"
    packed.write_text(packed.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    with pytest.raises(IntegrityError, match=r"constant\.py"):
        modelport.load(artifact.path)
    assert not marker.exists()


def test_main_guarded_code_does_not_run_at_load(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = write(tmp_path / "src", "constant.py", CONSTANT.format(value=1.0) + textwrap.dedent(f"""
        if __name__ == "__main__":
            open({str(marker)!r}, "w").close()
        """))
    artifact = modelport.pack(user_module(code).Constant(), name="c", sample=SAMPLE,
                              out=tmp_path / "art")
    modelport.load(artifact.path)
    assert not marker.exists()


class Nested:
    class Inner:
        def predict(self, frame: pd.DataFrame) -> list[float]:
            return [0.0] * len(frame)


def test_nested_class_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlavorError, match="top level"):
        modelport.pack(Nested.Inner(), name="n", sample=SAMPLE, out=tmp_path / "art")


def test_class_without_a_source_file_is_refused(tmp_path: Path) -> None:
    made = type("Made", (), {"predict": lambda self, frame: [0.0] * len(frame),
                             "__module__": "__main__"})
    with pytest.raises(FlavorError, match=r"no \.py source file"):
        modelport.pack(made(), name="m", sample=SAMPLE, out=tmp_path / "art")


def test_class_needing_arguments_is_refused(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "scaled.py", """
        class Scaled:
            def __init__(self, factor):
                self.factor = factor

            def predict(self, frame):
                return frame["a"].to_numpy() * self.factor
        """)
    with pytest.raises(FlavorError, match="no arguments"):
        modelport.pack(user_module(code).Scaled(2.0), name="s", sample=SAMPLE, out=tmp_path / "a")


def test_state_not_in_code_fails_the_round_trip(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "stateful.py", """
        class Stateful:
            def __init__(self):
                self.offset = 0.0

            def predict(self, frame):
                return frame["a"].to_numpy() + self.offset
        """)
    model = user_module(code).Stateful()
    model.offset = 5.0
    with pytest.raises(FlavorError, match="does not reproduce"):
        modelport.pack(model, name="s", sample=SAMPLE, out=tmp_path / "art")


def test_import_from_its_own_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "src", "helpers.py", "OFFSET = 1.0\n")
    code = write(tmp_path / "src", "uses_helper.py", """
        from helpers import OFFSET


        class UsesHelper:
            def predict(self, frame):
                return frame["a"].to_numpy() + OFFSET
        """)
    with pytest.raises(FlavorError, match="imports helpers from its own folder"):
        pack_file(code, name="u", sample=SAMPLE, out=tmp_path / "art")


def test_missing_data_file_is_refused(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "needs_data.py", """
        class NeedsData:
            data_files = ("weights.json",)

            def predict(self, frame):
                return frame["a"].to_numpy()
        """)
    with pytest.raises(FlavorError, match=r"names weights\.json, which is not in"):
        pack_file(code, name="d", sample=SAMPLE, out=tmp_path / "art")


def test_data_file_path_may_not_leave_the_folder(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "escapes.py", """
        class Escapes:
            data_files = ("../secret.txt",)

            def predict(self, frame):
                return frame["a"].to_numpy()
        """)
    (tmp_path / "secret.txt").write_text("x")
    with pytest.raises(FlavorError, match="unsafe path"):
        pack_file(code, name="d", sample=SAMPLE, out=tmp_path / "art")


def test_file_with_two_model_classes_needs_model_class(tmp_path: Path) -> None:
    two = """
        class First:
            def predict(self, frame):
                return frame["a"].to_numpy()


        class Second:
            def predict(self, frame):
                return frame["b"].to_numpy()
        """
    code = write(tmp_path / "src", "two.py", two)
    assert flavor_for_file(code).name == "pyfunc"
    with pytest.raises(FlavorError, match=r"exactly one class with a predict method.*First, Second"):
        pack_file(code, name="t", sample=SAMPLE, out=tmp_path / "art")
    code.write_text(textwrap.dedent(two) + "\nMODEL_CLASS = Second\n")
    artifact = pack_file(code, name="t", sample=SAMPLE, out=tmp_path / "art")
    assert artifact.load().predict(SAMPLE).tolist() == SAMPLE["b"].tolist()


def test_lock_holds_what_the_file_imports(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "with_h5py.py", """
        import h5py  # noqa: F401  (imported only so the lock must list it)


        class WithH5py:
            def predict(self, frame):
                return frame["a"].to_numpy()
        """)
    artifact = pack_file(code, name="h", sample=SAMPLE, out=tmp_path / "art")
    lock = Lock.from_text((artifact.path / LOCK_FILE).read_text())
    assert "h5py" in lock.packages
    assert "modelport" not in lock.packages


def test_cli_packs_a_py_file_and_reports_a_bad_one(tmp_path: Path) -> None:
    code = write(tmp_path / "src", "constant.py", CONSTANT.format(value=3.0))
    sample = tmp_path / "sample.csv"
    SAMPLE.to_csv(sample, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["pack", str(code), "--name", "c", "--sample", str(sample),
                                 "--out", str(tmp_path / "art")])
    assert result.exit_code == 0, result.output
    assert "(pyfunc, regression)" in result.output
    empty = write(tmp_path / "src", "empty.py", "VALUE = 1\n")
    result = runner.invoke(app, ["pack", str(empty), "--flavor", "pyfunc", "--name", "e",
                                 "--sample", str(sample), "--out", str(tmp_path / "art2")])
    assert result.exit_code == 2
    assert "exactly one class with a predict method" in " ".join(result.output.split())
