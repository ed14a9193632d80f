"""Segments are written whole under their model and day, and listed by day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelport.errors import RefError
from modelport.predictions.segments import check_model, model_folder, segment_files, write_segment


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a b", "x" * 129, "../etc"])
def test_names_that_cannot_be_a_folder_are_refused(name: str) -> None:
    with pytest.raises(RefError):
        check_model(name)


def test_model_names_of_the_registry_are_accepted() -> None:
    assert check_model("credit-risk_v2.1") == "credit-risk_v2.1"


def test_a_segment_is_renamed_into_place_and_no_temporary_remains(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, "credit") / "date=2026-03-01"
    table = pa.table({"id": ["a", "b"], "x": [1, 2]})
    path = write_segment(folder, table)
    assert path.parent == folder
    assert path.name.endswith(".parquet")
    assert pq.read_table(path).equals(table)
    assert [p.name for p in folder.iterdir()] == [path.name]


def test_segments_are_listed_by_day_and_in_write_order(tmp_path: Path) -> None:
    base = model_folder(tmp_path, "credit")
    written = {day: [write_segment(base / f"date={day}", pa.table({"x": [i]})) for i in range(2)]
               for day in ("2026-03-01", "2026-03-02", "2026-03-03")}
    (base / "date=2026-03-02" / ".half.parquet.tmp").write_bytes(b"PAR1")
    (base / "date=garbage").mkdir()
    assert segment_files(tmp_path, "credit") == [p for paths in written.values() for p in paths]
    assert segment_files(tmp_path, "credit", first=date(2026, 3, 2), last=date(2026, 3, 2)) \
        == written["2026-03-02"]
    assert segment_files(tmp_path, "other") == []
    assert segment_files(tmp_path, "credit", feedback=True) == []
