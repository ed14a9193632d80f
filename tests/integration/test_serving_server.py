"""A real server: ``modelport serve`` under uvicorn on 127.0.0.1, driven by the real tritonclient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.data import numeric_classification
from tests.serving_apps import open_model
from tests.serving_processes import serve


@pytest.fixture
def server(served_paths: dict[str, Path]) -> Iterator[str]:
    with serve("serve", str(served_paths["numeric"]), str(served_paths["credit"])) as running:
        yield running.url.removeprefix("http://")


def test_tritonclient_talks_to_modelport_serve(server: str, served_paths: dict[str, Path]) -> None:
    import tritonclient.http as triton

    model = open_model(served_paths["numeric"])
    rows = numeric_classification(200, classes=3)[0].iloc[20:52]
    expected = model.predict_detailed(rows.astype(np.float32).astype(float))
    client = triton.InferenceServerClient(url=server)
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("numeric")
        metadata = client.get_model_metadata("numeric")
        assert [i["name"] for i in metadata["inputs"]] == ["x1", "x2", "x3", "x4"]

        tensor = triton.InferInput("features", [len(rows), 4], "FP32")
        tensor.set_data_from_numpy(rows.to_numpy(dtype=np.float32), binary_data=True)
        result = client.infer("numeric", [tensor],
                              outputs=[triton.InferRequestedOutput("prediction", binary_data=True)])
        assert result.as_numpy("prediction").tolist() == expected.values.tolist()
        assert result.as_numpy("probabilities") is None

        columns = []
        for name in rows:
            column = triton.InferInput(name, [len(rows)], "FP64")
            column.set_data_from_numpy(rows[name].to_numpy(dtype=np.float64), binary_data=False)
            columns.append(column)
        result = client.infer("numeric", columns)  # every output, binary by default
        exact = model.predict_detailed(rows)
        assert result.as_numpy("prediction").tolist() == exact.values.tolist()
        np.testing.assert_allclose(result.as_numpy("probabilities"), exact.probabilities)

        result = client.infer("numeric", columns, outputs=[
            triton.InferRequestedOutput("probabilities", binary_data=False)])
        np.testing.assert_allclose(result.as_numpy("probabilities"), exact.probabilities)

        with pytest.raises(triton.InferenceServerException, match="missing column"):
            client.infer("numeric", columns[:3])
    finally:
        client.close()

    headers = {"Modelport-Model": "credit", "Content-Type": "text/csv"}
    answer = httpx.post(f"http://{server}/invocations", headers=headers,
                        content=b"Seniority,Home\n1,rent\n")
    assert answer.status_code == 422
    assert {p["field"] for p in answer.json()["problems"]} >= {"Age", "Income"}


def test_answers_name_no_server_software_and_carry_a_date(server: str) -> None:
    for path in ("/healthz", "/v2/models/numeric"):
        answer = httpx.get(f"http://{server}{path}")
        assert answer.status_code == 200
        assert "server" not in answer.headers
        assert answer.headers["date"].endswith(" GMT")  # RFC 9110: an origin server with a clock sends one


def test_serve_refuses_a_bad_ref_before_listening(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from modelport.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["serve", str(tmp_path / "missing"), "--port", "1"])
    assert result.exit_code == 3, result.output  # resolved like every ref: not found
    assert "no artifact folder or .tar at" in result.output
    assert "--workers" in runner.invoke(app, ["serve", "--help"]).output
    bad = runner.invoke(app, ["serve", str(tmp_path), "--max-batch-size", "0"])
    assert bad.exit_code == 2
    assert "max_batch_size must be at least 1" in bad.output
    config = tmp_path / "serve.yaml"
    config.write_text("models: [a@production]\nworkers: many\n")
    bad_file = runner.invoke(app, ["serve", "--config", str(config)])
    assert bad_file.exit_code == 2
    assert "workers must be int, got 'many'" in bad_file.output
    nothing = runner.invoke(app, ["serve"])
    assert nothing.exit_code == 2
    assert "name at least one model" in nothing.output
