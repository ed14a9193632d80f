"""The output folder: atomic parts, one run per folder, a journal that survives a torn last line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelport.batch.output import JOURNAL, ChunkResult, OutputFolder, write_atomic
from modelport.errors import BatchError

HEADER = {"run_id": "r1", "model": {"digest": "abc"}, "input": {"files": [["a", 1, 2]]},
          "options": {"chunk_rows": 10}}


def _result(index: int) -> ChunkResult:
    return ChunkResult(index, index * 10, 10, 9, 1, f"part-{index:06d}.parquet", None, 0.1)


def test_write_atomic_leaves_the_whole_file_and_no_temporary(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2, 3]})
    write_atomic(tmp_path / "part-000000.parquet", table)
    write_atomic(tmp_path / "note.json", b"{}")
    assert pq.read_table(tmp_path / "part-000000.parquet").equals(table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.json", "part-000000.parquet"]


def test_a_folder_holds_one_run(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "out")
    folder.start(HEADER)
    with pytest.raises(BatchError, match="holds batch run r1: pass --resume"):
        folder.start(HEADER | {"run_id": "r2"})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file.txt").write_text("mine")
    with pytest.raises(BatchError, match="not empty"):
        OutputFolder(tmp_path / "other").start(HEADER)
    with pytest.raises(BatchError, match="no batch run to resume"):
        OutputFolder(tmp_path / "other").resume(HEADER)


def test_resume_refuses_another_input_or_options(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    folder.start(HEADER)
    assert folder.resume({k: HEADER[k] for k in ("model", "input", "options")})["run_id"] == "r1"
    with pytest.raises(BatchError, match="input differ"):
        folder.resume({"model": HEADER["model"], "input": {"files": [["a", 2, 2]]},
                       "options": HEADER["options"]})


def test_journal_keeps_finished_chunks_and_cuts_a_torn_line(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    folder.start(HEADER)
    folder.record(_result(0))
    folder.record(_result(2))
    with (tmp_path / JOURNAL).open("a") as journal:
        journal.write('{"index": 5, "st')  # the process died while writing this line
    (tmp_path / ".part-000005.parquet.123.tmp").write_bytes(b"half")
    assert sorted(folder.finished()) == [0, 2]
    folder.resume({k: HEADER[k] for k in ("model", "input", "options")})
    assert not (tmp_path / ".part-000005.parquet.123.tmp").exists()
    folder.record(_result(5))
    assert folder.finished() == {0: _result(0), 2: _result(2), 5: _result(5)}
    assert [json.loads(line)["index"] for line in (tmp_path / JOURNAL).read_text().splitlines()] == [0, 2, 5]
