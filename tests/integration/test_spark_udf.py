"""``modelport.spark.predict_udf`` in a local-mode Spark pipeline predicts what ``modelport batch`` writes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport.registry.service import Registry
from modelport.settings import Settings
from tests.integration.batch_files import batch, credit_rows, read_output, read_rejects, summary, write
from tests.spark_sessions import local_session

pyspark = pytest.importorskip("pyspark")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from local_session("modelport udf tests")


def test_the_udf_predicts_what_the_local_engine_writes(spark: Any, credit_path: Path, tmp_path: Path) -> None:
    from modelport.spark import predict_udf

    x = credit_rows().astype({"Seniority": float})
    x.loc[[5, 400], "Seniority"] = np.nan
    x.loc[[17], "Marital"] = "complicated"
    source = write(x, tmp_path / "in.parquet")
    summary(batch(credit_path, source, tmp_path / "out", "--workers", 1, "--id-column", "key",
                  "--max-reject-rate", 0.05, "--no-log-predictions", "--json"))
    local = read_output(tmp_path / "out").sort_values("key").reset_index(drop=True)
    rejects = read_rejects(tmp_path / "out").sort_values("key").reset_index(drop=True)

    with Registry(Settings.from_env().registry_config()) as registry:
        registry.register(credit_path)
    score = predict_udf("credit:1")
    scored = (spark.read.parquet(str(source)).select("key", score().alias("s")).select("key", "s.*")
              .toPandas().sort_values("key").reset_index(drop=True))
    assert scored.columns.tolist() == ["key", "prediction", "proba_bad", "proba_good", "reason"]
    good = scored[scored["reason"].isna()].reset_index(drop=True)
    assert good["key"].tolist() == local["key"].tolist()
    assert good["prediction"].tolist() == local["prediction"].tolist()
    np.testing.assert_allclose(good[["proba_bad", "proba_good"]], local[["proba_bad", "proba_good"]],
                               rtol=1e-12, atol=0)
    bad = scored[scored["reason"].notna()].reset_index(drop=True)
    assert bad["key"].tolist() == rejects["key"].tolist() == ["k00005", "k00017", "k00400"]
    assert bad["reason"].tolist() == rejects["reason"].tolist()
    assert bad[["prediction", "proba_bad"]].isna().all().all()


def test_columns_given_in_signature_order_are_scored_under_its_names(spark: Any, credit_path: Path) -> None:
    from pyspark.sql import functions as F

    from modelport.spark import predict_udf

    x = credit_rows(200)
    names = [c for c in x.columns if c != "key"]
    renamed = spark.createDataFrame(x.rename(columns={n: f"c{i}" for i, n in enumerate(names)}))
    score = predict_udf(credit_path, proba=False)
    scored = renamed.select("key", score(*[F.col(f"c{i}") for i in range(len(names))]).alias("s"))
    got = scored.select("key", "s.*").toPandas().sort_values("key")
    assert got.columns.tolist() == ["key", "prediction", "reason"]
    import modelport

    assert got["prediction"].tolist() == modelport.load(credit_path).predict(x[names]).tolist()
    with pytest.raises(modelport.ModelportError, match="takes 13 columns"):
        score("Age")


def test_a_stopped_module_session_leaves_no_jvm() -> None:
    script = ("import psutil\n"
              "from tests.spark_sessions import local_session\n"
              "sessions = local_session('check')\n"
              "next(sessions)\n"
              "assert any('java' in c.name() for c in psutil.Process().children(recursive=True))\n"
              "sessions.close()\n"
              "left = [c.name() for c in psutil.Process().children(recursive=True)]\n"
              "assert not left, left\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
