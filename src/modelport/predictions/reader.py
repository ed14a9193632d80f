"""Read the prediction log with DuckDB: predictions in a time range, joined with their feedback by id.

Segments whose columns differ (a column added to the model, an input excluded later) are unioned
by name; a column a segment lacks reads as missing. Only the day folders that can hold the range
are opened. Times are UTC; a naive ``since``/``until`` is taken as UTC, ``since`` is inclusive and
``until`` exclusive. The feedback join is windowed by the *prediction's* time, so a label that
arrives days later lands in the window of the prediction it belongs to; when several feedback rows
name one id, the latest received label and the latest received outcome win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyarrow as pa

from modelport.errors import MissingDependencyError
from modelport.predictions.policy import sampled_in
from modelport.predictions.records import BASE_COLUMNS
from modelport.predictions.resources import COLUMNS as RESOURCE_COLUMNS
from modelport.predictions.resources import empty_resources
from modelport.predictions.segments import segment_files

if TYPE_CHECKING:
    import duckdb

TimeLike = str | datetime | pd.Timestamp
T = TypeVar("T")
#: columns ``joined`` adds to the predictions
FEEDBACK_COLUMNS = ("label", "outcome", "feedback_received")
#: how many unknown ids a match shows by name
EXAMPLES = 5


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that speaks UTC."""
    try:
        import duckdb
    except ImportError as exc:  # a core dependency; a broken install says how to mend it
        raise MissingDependencyError("duckdb", "all") from exc
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def utc(moment: TimeLike) -> datetime:
    """``moment`` as an aware UTC datetime; naive values are UTC."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def _days(since: TimeLike | None, until: TimeLike | None) -> tuple[date | None, date | None]:
    return (None if since is None else utc(since).date(),
            None if until is None else utc(until).date())


def _where(since: TimeLike | None, until: TimeLike | None, version: str | None,
           alias: str) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if since is not None:
        clauses.append(f"{alias}time >= $since")
        params["since"] = utc(since)
    if until is not None:
        clauses.append(f"{alias}time < $until")
        params["until"] = utc(until)
    if version is not None:
        clauses.append(f"{alias}version = $version")
        params["version"] = version
    return " AND ".join(clauses), params


def _scan(files: Sequence[Path], *, positions: bool = True) -> str:
    """A DuckDB scan of ``files``; ``positions`` adds each row's file name and row number."""
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    extra = ", filename = true, file_row_number = true" if positions else ""
    return f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false{extra})"


def empty_predictions() -> pd.DataFrame:
    """A log frame with no rows: the base columns with their types."""
    types = {"time": "datetime64[us, UTC]", "status": "int64", "latency_ms": "float64",
             "sample_rate": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "object")) for c in BASE_COLUMNS})


def read_predictions(root: str | Path, model: str, since: TimeLike | None = None,
                     until: TimeLike | None = None, version: str | None = None) -> pd.DataFrame:
    """Every logged prediction of ``model`` in ``[since, until)``, in time order (rows of a request
    in their order), optionally of one version only."""
    return _read(root, model, since, until, version, resources=False,
                 select="* EXCLUDE (filename, file_row_number)", order="time, filename, file_row_number",
                 empty=empty_predictions)


def read_resources(root: str | Path, model: str, since: TimeLike | None = None,
                   until: TimeLike | None = None) -> pd.DataFrame:
    """The CPU and memory samples of the processes that served ``model`` in ``[since, until)``, by time
    (see :mod:`modelport.predictions.resources`); no rows when the log kept none."""
    return _read(root, model, since, until, None, resources=True, select=", ".join(RESOURCE_COLUMNS),
                 order="time, host, pid", empty=empty_resources)


def _read(root: str | Path, model: str, since: TimeLike | None, until: TimeLike | None,
          version: str | None, *, resources: bool, select: str, order: str,
          empty: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``SELECT select ... ORDER BY order`` over the model's prediction (or resource) segments of the
    days in range, rows in ``[since, until)`` (of ``version`` when given); ``empty()`` without files."""
    first, last = _days(since, until)
    where, params = _where(since, until, version, "")

    def query() -> pd.DataFrame:
        files = segment_files(Path(root), model, first=first, last=last, resources=resources)
        if not files:
            return empty()
        scan = _scan(files, positions=not resources)
        with connect() as connection:
            return connection.execute(f"SELECT {select} FROM {scan} WHERE {where} ORDER BY {order}",
                                      params).df()

    return _retrying(query)


def _feedback_source(connection: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> str:
    """A query of the latest label and outcome per id (no rows when there is no feedback)."""
    if not files:
        return ("SELECT NULL::VARCHAR AS id, NULL AS label, NULL AS outcome, "
                "NULL::TIMESTAMPTZ AS feedback_received WHERE FALSE")
    scan = _scan(files)
    present = {row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    order = "received, filename, file_row_number"
    picks = [f"arg_max({name}, ({order})) FILTER (WHERE {name} IS NOT NULL) AS {name}"
             if name in present else f"NULL AS {name}" for name in ("label", "outcome")]
    return (f"SELECT id, {', '.join(picks)}, max(received) AS feedback_received "
            f"FROM {scan} GROUP BY id")


def joined(root: str | Path, model: str, since: TimeLike | None = None, until: TimeLike | None = None,
           *, version: str | None = None, labelled_only: bool = False) -> pd.DataFrame:
    """Predictions of ``model`` made in ``[since, until)`` with their ``label``, ``outcome`` and
    ``feedback_received`` (missing where no feedback arrived); ``labelled_only`` keeps only rows
    with a label or an outcome."""
    path = Path(root)
    first, last = _days(since, until)
    where, params = _where(since, until, version, "p.")
    join = "JOIN" if labelled_only else "LEFT JOIN"

    def query() -> pd.DataFrame:
        files = segment_files(path, model, first=first, last=last)
        if not files:
            frame = empty_predictions()
            return frame.assign(label=pd.Series(dtype=object), outcome=pd.Series(dtype=object),
                                feedback_received=pd.Series(dtype="datetime64[us, UTC]"))
        # feedback is received after the prediction (a day of slack for clocks that disagree)
        feedback = segment_files(path, model, first=None if first is None else first - timedelta(days=1),
                                 feedback=True)
        with connect() as connection:
            source = _feedback_source(connection, feedback)
            sql = (f"WITH f AS ({source}) "
                   "SELECT p.* EXCLUDE (filename, file_row_number), f.label, f.outcome, f.feedback_received "
                   f"FROM {_scan(files)} AS p {join} f ON p.id = f.id WHERE {where} "
                   "ORDER BY p.time, p.filename, p.file_row_number")
            return connection.execute(sql, params).df()

    return _retrying(query)


@dataclass(frozen=True)
class IdMatch:
    """How the ids of some feedback meet the log: logged, left out by sampling, or unknown."""

    joined: int
    sampled_out: int
    unknown: int
    #: a few of the unknown ids, to show
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"joined": self.joined, "sampled_out": self.sampled_out, "unknown": self.unknown,
                "examples": list(self.examples)}


def match_ids(root: str | Path, model: str, ids: Iterable[str], *, since: TimeLike | None = None) -> IdMatch:
    """Which of ``ids`` (distinct) name a logged prediction of ``model`` (made since ``since``).

    An id that is not in the log but that the log's sampling would have left out (at the lowest
    rate its segments record) counts as sampled out; the rest are unknown: mistyped, of another
    model, or not flushed yet.
    """
    wanted = list(dict.fromkeys(ids))
    missing, rate = _retrying(lambda: _missing_ids(Path(root), model, wanted, since))
    missing_set = set(missing)
    unknown = [i for i in wanted if i in missing_set and sampled_in(i, rate)]
    sampled_out = len(missing) - len(unknown)
    return IdMatch(joined=len(wanted) - len(missing), sampled_out=sampled_out, unknown=len(unknown),
                   examples=tuple(unknown[:EXAMPLES]))


def _missing_ids(root: Path, model: str, wanted: list[str],
                 since: TimeLike | None) -> tuple[list[str], float]:
    """The wanted ids not in the log, and the lowest sampling rate the log records."""
    files = segment_files(root, model, first=_days(since, None)[0])
    missing: list[str] = wanted
    rate = 1.0
    if files and wanted:
        with connect() as connection:
            connection.register("wanted", pa.table({"id": pa.array(wanted, type=pa.string())}))
            scan = _scan(files, positions=False)
            rows = connection.execute(f"SELECT w.id FROM wanted AS w ANTI JOIN (SELECT id FROM {scan}) "
                                      "AS p ON w.id = p.id").fetchall()
            missing = [row[0] for row in rows]
            found = connection.execute(f"SELECT min(sample_rate) FROM {scan}").fetchone()
            rate = 1.0 if found is None or found[0] is None else float(found[0])
    return missing, rate


def _retrying(query: Callable[[], T]) -> T:
    """Run ``query`` again (listing the segments anew) when a segment vanished under it: a
    compaction replaced it between the listing and the read."""
    import duckdb

    for _ in range(2):
        try:
            return query()
        except (duckdb.IOException, FileNotFoundError):
            continue
    return query()
