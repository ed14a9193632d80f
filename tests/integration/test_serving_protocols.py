"""Every protocol in process: OIP v2 (columns, one 2-D tensor, FP32/FP64, requested outputs, binary
tensors), KServe v1, MLflow scoring (every JSON form and CSV), metadata and OpenAPI."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.serving.codecs import v2
from tests.data import credit, numeric_classification, numeric_regression
from tests.serving_apps import open_model, serving

pytestmark = pytest.mark.anyio


def _columns(rows: pd.DataFrame, datatype: str = "FP64") -> list[dict[str, Any]]:
    return [{"name": c, "shape": [len(rows)], "datatype": datatype, "data": rows[c].tolist()}
            for c in rows]


async def test_oip_columns_tensor_and_requested_outputs(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["numeric"])
    rows = numeric_classification(200, classes=3)[0].iloc[10:17].reset_index(drop=True)
    expected = model.predict_detailed(rows)
    async with serving([model]) as (client, service):
        version = service.default().version
        answer = await client.post("/v2/models/numeric/infer", json={"id": "r1", "inputs": _columns(rows)})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["id"], body["model_name"], body["model_version"]) == ("r1", "numeric", version)
        outputs = {o["name"]: o for o in body["outputs"]}
        assert outputs["prediction"]["datatype"] == "INT64"
        assert outputs["prediction"]["data"] == expected.values.tolist()
        assert outputs["probabilities"]["shape"] == [7, 3]
        np.testing.assert_allclose(np.reshape(outputs["probabilities"]["data"], (7, 3)),
                                   expected.probabilities)

        for datatype in ("FP32", "FP64"):
            tensor = {"name": "features", "shape": [7, 4], "datatype": datatype,
                      "data": rows.to_numpy().tolist()}
            answer = await client.post(f"/v2/models/numeric/versions/{version}/infer",
                                       json={"inputs": [tensor], "outputs": [{"name": "prediction"}]})
            assert answer.status_code == 200, answer.text
            assert [o["name"] for o in answer.json()["outputs"]] == ["prediction"]
            assert answer.json()["outputs"][0]["data"] == expected.values.tolist()


async def test_oip_columns_with_strings_and_nulls(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["credit"])
    rows = credit(400)[0].iloc[:40].reset_index(drop=True)
    rows = rows[rows.isna().any(axis=1) | (rows.index < 5)].reset_index(drop=True)
    expected = model.predict(rows)
    inputs = []
    for spec in model.signature.inputs:
        values = [None if pd.isna(v) else v for v in rows[spec.name].tolist()]
        inputs.append({"name": spec.name, "shape": [len(rows), 1], "datatype": v2.column_datatype(spec),
                       "data": values})
    async with serving([model]) as (client, _):
        answer = await client.post("/v2/models/credit/infer", json={"inputs": inputs})
        assert answer.status_code == 200, answer.text
        prediction = answer.json()["outputs"][0]
        assert prediction["datatype"] == "BYTES"
        assert prediction["data"] == expected.tolist()


async def test_a_json_null_in_a_category_column_predicts_as_nan(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["credit"])
    rows = credit(400)[0].iloc[:8].reset_index(drop=True).astype({"Home": object})
    rows["Home"] = rows["Home"].where(rows.index % 2 == 0, np.nan)
    expected = model.predict_detailed(rows)
    inputs = [{"name": spec.name, "shape": [len(rows)], "datatype": v2.column_datatype(spec),
               "data": [None if pd.isna(v) else v for v in rows[spec.name].tolist()]}
              for spec in model.signature.inputs]
    async with serving([model]) as (client, _):
        answer = await client.post("/v2/models/credit/infer", json={"inputs": inputs})
        assert answer.status_code == 200, answer.text
        outputs = {o["name"]: o for o in answer.json()["outputs"]}
        assert outputs["prediction"]["data"] == expected.values.tolist()
        assert expected.probabilities is not None
        np.testing.assert_allclose(np.reshape(outputs["probabilities"]["data"], (len(rows), 2)),
                                   expected.probabilities, rtol=0, atol=1e-12)


async def test_oip_binary_tensors_in_and_out(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["numeric"])
    rows = numeric_classification(200, classes=3)[0].iloc[:5]
    tensor = rows.to_numpy(dtype=np.float32).tobytes()
    header = {"inputs": [{"name": "x", "shape": [5, 4], "datatype": "FP32",
                          "parameters": {"binary_data_size": len(tensor)}}],
              "outputs": [{"name": "prediction", "parameters": {"binary_data": True}},
                          {"name": "probabilities", "parameters": {"binary_data": False}}]}
    from modelport.serving.codecs import jsonio

    head = jsonio.encode(header)
    async with serving([model]) as (client, _):
        answer = await client.post("/v2/models/numeric/infer", content=head + tensor,
                                   headers={"Inference-Header-Content-Length": str(len(head))})
    assert answer.status_code == 200, answer.text
    size = int(answer.headers["inference-header-content-length"])
    meta = jsonio.decode(answer.content[:size])
    outputs = {o["name"]: o for o in meta["outputs"]}
    assert outputs["prediction"]["parameters"]["binary_data_size"] == 5 * 8
    labels = np.frombuffer(answer.content[size:], dtype="<i8")
    assert labels.tolist() == model.predict(rows.astype(np.float32).astype(float)).tolist()
    assert len(outputs["probabilities"]["data"]) == 15


async def test_oip_metadata_and_readiness(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["credit"])
    async with serving([model]) as (client, service):
        version = service.default().version
        assert (await client.get("/v2")).json()["extensions"] == ["binary_tensor_data"]
        assert (await client.get("/v2/health/live")).status_code == 200
        assert (await client.get("/v2/health/ready")).json() == {"ready": True}
        meta = (await client.get("/v2/models/credit")).json()
        assert meta["versions"] == [version]
        inputs = {i["name"]: i["datatype"] for i in meta["inputs"]}
        assert inputs["Home"] == "BYTES"
        assert inputs["Income"] == "FP64"
        assert inputs["Age"] == "INT64"
        assert (await client.get(f"/v2/models/credit/versions/{version}")).status_code == 200
        ready = await client.get(f"/v2/models/credit/versions/{version}/ready")
        assert ready.json() == {"name": "credit", "version": version, "ready": True}
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200


async def test_kserve_v1_records_and_rows(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["regressor"])
    rows = numeric_regression(200)[0].iloc[:6]
    expected = model.predict(rows).tolist()
    async with serving([model]) as (client, _):
        for instances in (rows.to_dict("records"), rows.to_numpy().tolist()):
            answer = await client.post("/v1/models/regressor:predict", json={"instances": instances})
            assert answer.status_code == 200, answer.text
            np.testing.assert_allclose(answer.json()["predictions"], expected)
        assert (await client.get("/v1/models/regressor")).json()["ready"] is True


async def test_mlflow_every_input_form(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["credit"])
    other = open_model(served_paths["regressor"])
    rows = credit(400)[0].iloc[:8].reset_index(drop=True)
    expected = model.predict(rows).tolist()
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]
    split = {"columns": list(rows.columns), "data": [list(r.values()) for r in records]}
    columns = {c: [r[c] for r in records] for c in rows.columns}
    async with serving([model, other]) as (client, _):
        bodies = [{"dataframe_split": split}, {"dataframe_records": records}, {"instances": records},
                  {"inputs": columns}]
        for body in bodies:
            answer = await client.post("/invocations", json=body)
            assert answer.status_code == 200, (body.keys(), answer.text)
            assert answer.json() == {"predictions": expected}
        csv = await client.post("/invocations", content=rows.to_csv(index=False).encode(),
                                headers={"Content-Type": "text/csv"})
        assert csv.status_code == 200, csv.text
        assert csv.json() == {"predictions": expected}
        numeric = numeric_regression(200)[0].iloc[:2]
        chosen = await client.post("/invocations", json={"dataframe_records": numeric.to_dict("records")},
                                   headers={"Modelport-Model": "regressor"})
        assert chosen.status_code == 200, chosen.text
        np.testing.assert_allclose(chosen.json()["predictions"], other.predict(numeric))
        assert (await client.get("/ping")).status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_openapi_is_generated_from_the_signatures(served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["credit"])
    async with serving([model]) as (client, service):
        document = (await client.get("/openapi.json")).json()
    version = service.default().version
    row = document["components"]["schemas"][f"credit_{version}_row"]
    assert row["required"] == model.signature.names
    assert row["properties"]["Income"] == {"type": ["number", "null"]}
    assert row["properties"]["Marital"]["enum"] == list(model.signature.column("Marital").levels or ())
    assert {"/v2/models/credit/infer", "/v1/models/credit:predict", "/invocations"} <= set(document["paths"])


def test_binary_bytes_tensors_round_trip() -> None:
    """BYTES elements are 4-byte little-endian lengths then UTF-8, both ways."""
    raw = b"".join(struct.pack("<I", len(s)) + s for s in (b"good", b"bad"))
    header = ('{"inputs":[{"name":"Home","shape":[2],"datatype":"BYTES",'
              f'"parameters":{{"binary_data_size":{len(raw)}}}}}]}}')
    from modelport.core.schema import ColumnKind, ColumnSpec, Signature

    signature = Signature((ColumnSpec("Home", ColumnKind.STRING),))
    decoded = v2.decode(header.encode() + raw, str(len(header)), signature, ("prediction",))
    assert list(decoded.raw["Home"]) == ["good", "bad"]


async def test_large_bodies_are_decoded_and_validated_off_the_event_loop(
        served_paths: dict[str, Path]) -> None:
    model = open_model(served_paths["numeric"])
    rows = numeric_classification(200, classes=3)[0].iloc[:50]
    expected = model.predict(rows).tolist()
    async with serving([model], offload_bytes=0) as (client, _):
        v2_answer = await client.post("/v2/models/numeric/infer", json={"inputs": _columns(rows)})
        v1_answer = await client.post("/v1/models/numeric:predict",
                                      json={"instances": rows.to_dict("records")})
        mlflow_answer = await client.post("/invocations", json={"dataframe_records": rows.to_dict("records")})
        bad = await client.post("/invocations", json={"dataframe_records": [{"x1": "a"}]})
    assert v2_answer.json()["outputs"][0]["data"] == expected
    assert v1_answer.json()["predictions"] == expected
    assert mlflow_answer.json()["predictions"] == expected
    assert bad.status_code == 422
