"""Batch inputs: which files, in which order, cut into chunks of exactly chunk_rows rows."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelport.batch.inputs import InputSource, ParquetRows, find_files
from modelport.errors import BatchError


def _frame(start: int, rows: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(start, start + rows), "x": np.arange(rows) / 7})


def _ids(source: InputSource, chunk_rows: int) -> tuple[list[int], list[int]]:
    sizes, ids = [], []
    for i, chunk in enumerate(source.chunks(chunk_rows)):
        assert chunk.index == i
        assert chunk.start == i * chunk_rows
        sizes.append(chunk.rows)
        data = chunk.table()
        if isinstance(data, bytes):
            ids += [json.loads(line)["id"] for line in data.split(b"\n")]
        else:
            assert data.num_rows == chunk.rows
            ids += data.column("id").to_pylist()
    return sizes, ids


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_chunks_cut_the_files_in_order_into_exact_sizes(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "in"
    (folder / "b").mkdir(parents=True)
    parts = {folder / f"a.{fmt}": _frame(0, 1234), folder / "b" / f"c.{fmt}": _frame(1234, 2000),
             folder / f"d.{fmt}": _frame(3234, 7)}
    for path, frame in parts.items():
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=300)
        elif fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_json(path, orient="records", lines=True)
    source = InputSource.open(str(folder))
    assert source.format == {"jsonl": "json"}.get(fmt, fmt)
    sizes, ids = _ids(source, 500)
    assert sizes == [500] * 6 + [241]
    assert ids == list(range(3241))


def test_parquet_chunks_name_their_row_groups_and_travel_without_their_rows(tmp_path: Path) -> None:
    frame = _frame(0, 10_000)
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "a.parquet", row_group_size=3000)
    pq.write_table(pa.Table.from_pandas(_frame(10_000, 0)), tmp_path / "b.parquet")  # an empty file
    pq.write_table(pa.Table.from_pandas(_frame(10_000, 5)), tmp_path / "c.parquet")
    source = InputSource.open(str(tmp_path))
    chunks = list(source.chunks(2500, ["id"]))
    assert all(isinstance(c.data, ParquetRows) for c in chunks)
    assert [c.data.pieces[0][1] for c in chunks[:4]] == [(0,), (0, 1), (1, 2), (2, 3)]
    assert len(pickle.dumps(chunks[1])) < 1000  # where the rows are, not the rows
    last = pickle.loads(pickle.dumps(chunks[-1]))
    assert last.table().column("id").to_pylist() == list(range(10_000, 10_005))
    assert [c.table().column_names for c in chunks[:1]] == [["id"]]
    assert [i for c in chunks for i in c.table().column("id").to_pylist()] == list(range(10_005))


def test_parquet_row_groups_far_larger_than_a_chunk_are_streamed_by_the_reader(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(_frame(0, 5000)), tmp_path / "a.parquet")  # one row group
    chunks = list(InputSource.open(str(tmp_path / "a.parquet")).chunks(1000))
    assert [type(c.data) for c in chunks] == [pa.Table] * 5
    assert [i for c in chunks for i in c.table().column("id").to_pylist()] == list(range(5000))


def test_parquet_rows_are_counted_from_metadata(tmp_path: Path) -> None:
    _frame(0, 321).to_parquet(tmp_path / "a.parquet")
    assert InputSource.open(str(tmp_path / "a.parquet")).count_rows() == 321
    _frame(0, 3).to_csv(tmp_path / "a.csv", index=False)
    assert InputSource.open(str(tmp_path / "a.csv")).count_rows() is None


def test_find_files_takes_a_file_a_folder_or_a_glob(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv", "_skip.csv", ".hidden.csv", "notes.txt"):
        (tmp_path / name).write_text("x\n1\n")
    (tmp_path / "_meta").mkdir()
    (tmp_path / "_meta" / "z.csv").write_text("x\n1\n")
    assert [p.name for p in find_files(str(tmp_path))] == ["a.csv", "b.csv"]
    assert [p.name for p in find_files(str(tmp_path / "?.csv"))] == ["a.csv", "b.csv"]
    assert [p.name for p in find_files(str(tmp_path / "b.csv"))] == ["b.csv"]
    with pytest.raises(BatchError, match="no input files"):
        find_files(str(tmp_path / "missing*.parquet"))


def test_one_format_per_input(tmp_path: Path) -> None:
    _frame(0, 3).to_csv(tmp_path / "a.csv", index=False)
    _frame(0, 3).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(BatchError, match="mixes formats"):
        InputSource.open(str(tmp_path))
    (tmp_path / "c.txt").write_text("x")
    with pytest.raises(BatchError, match="cannot read"):
        InputSource.open(str(tmp_path / "c.txt"))


def test_csv_signature_columns_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,x\n1,2.5\n2,abc\n3,\n")
    chunk = next(InputSource.open(str(tmp_path / "a.csv"), text_columns=("x",)).chunks(10))
    assert isinstance(chunk.data, pa.Table)
    assert chunk.data.column("x").to_pylist() == ["2.5", "abc", None]
    assert chunk.data.column("id").type == pa.int64()


def test_csv_files_after_the_first_take_its_types(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,x\n1,2.5\n")
    (tmp_path / "b.csv").write_text("id,x\n2,1\n")
    chunk = next(InputSource.open(str(tmp_path), text_columns=("x",)).chunks(10))
    assert isinstance(chunk.data, pa.Table)
    assert chunk.data.column("id").to_pylist() == [1, 2]
    (tmp_path / "c.csv").write_text("id,x\nthree,1\n")
    with pytest.raises(BatchError, match=r"cannot read .*c\.csv"):
        list(InputSource.open(str(tmp_path), text_columns=("x",)).chunks(10))
