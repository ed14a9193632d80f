"""The conformance suite every flavor passes: raw rows in, the in-process model's outputs out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import modelport
from modelport.artifact.archive import write_tar
from modelport.artifact.flavors import FLAVORS, flavor_for_file, get_flavor
from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.inference.pack import pack_file
from tests.flavor_cases import CaseData, FlavorCase, all_cases

CASES = all_cases()


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[FlavorCase, CaseData]:
    flavor_case: FlavorCase = request.param
    return flavor_case, flavor_case.build(tmp_path_factory.mktemp(flavor_case.id))


@pytest.fixture(scope="module")
def packed(case: tuple[FlavorCase, CaseData], tmp_path_factory: pytest.TempPathFactory
           ) -> modelport.Artifact:
    """One artifact per case, shared by the read-only tests (tamper tests copy it first)."""
    return _pack(case, tmp_path_factory.mktemp("packed"))


def _pack(case: tuple[FlavorCase, CaseData], tmp_path: Path) -> modelport.Artifact:
    flavor_case, data = case
    return modelport.pack(data.model, name="m", sample=data.sample, out=tmp_path / "art",
                          flavor=flavor_case.flavor, **data.pack_kwargs)


def _assert_close(got: np.ndarray, want: np.ndarray, atol: float) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if np.issubdtype(want.dtype, np.number) and np.issubdtype(got.dtype, np.number):
        np.testing.assert_allclose(got.astype(float).reshape(want.shape), want, atol=atol, rtol=1e-6)
    else:
        assert got.tolist() == want.tolist()


def test_every_flavor_has_a_case() -> None:
    assert {c.flavor for c in CASES} >= set(FLAVORS.names())


def test_raw_rows_predict_like_the_live_model(case: tuple[FlavorCase, CaseData],
                                              packed: modelport.Artifact) -> None:
    _, data = case
    loaded = modelport.load(packed.path)
    rows = data.sample.iloc[::7]
    _assert_close(loaded.predict(rows), data.expected(rows), data.atol)
    if data.expected_proba is not None:
        _assert_close(loaded.predict_proba(rows), data.expected_proba(rows), data.atol)


def test_records_and_columns_give_the_same_predictions(case: tuple[FlavorCase, CaseData],
                                                       packed: modelport.Artifact) -> None:
    _, data = case
    loaded = modelport.load(packed.path)
    rows = data.sample.head(5)
    from_frame = loaded.predict(rows)
    records = [{k: (None if v != v else v) for k, v in r.items()} for r in rows.to_dict("records")]
    _assert_close(loaded.predict(records), from_frame, data.atol)
    _assert_close(loaded.predict(rows.to_dict("list")), from_frame, data.atol)


def test_manifest_records_flavor_lock_and_golden(case: tuple[FlavorCase, CaseData],
                                                 packed: modelport.Artifact) -> None:
    flavor_case, _ = case
    artifact = packed
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    assert manifest["flavor"] == flavor_case.flavor
    lock = Lock.from_text((artifact.path / LOCK_FILE).read_text())
    for framework in get_flavor(flavor_case.flavor).frameworks:
        assert framework in lock.packages
        assert manifest["environment"]["frameworks"][framework] == lock.packages[framework]
    assert 0 < manifest["golden"]["rows"] <= 20
    assert set(manifest["files"]) >= {LOCK_FILE, "golden/inputs.parquet", "reference/sample.parquet"}


def test_tampered_model_file_is_refused(packed: modelport.Artifact, tmp_path: Path) -> None:
    copy = shutil.copytree(packed.path, tmp_path / "copy")
    model_file = sorted((copy / "model").rglob("*.*"))[0]
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(modelport.IntegrityError, match="changed"):
        modelport.load(copy)


def test_model_file_packs_with_detected_flavor(case: tuple[FlavorCase, CaseData],
                                               tmp_path: Path) -> None:
    flavor_case, data = case
    if data.model_file is None:
        pytest.skip("this case has no file form")
    assert flavor_for_file(data.model_file).name == flavor_case.flavor
    kwargs = {k: v for k, v in data.pack_kwargs.items() if k != "trust_pickle"}
    artifact = pack_file(data.model_file, name="f", sample=data.sample, out=tmp_path / "file",
                         trust_pickle=bool(data.pack_kwargs.get("trust_pickle")), **kwargs)
    rows = data.sample.iloc[::11]
    _assert_close(artifact.load().predict(rows), data.expected(rows), data.atol)


def test_tar_round_trip(case: tuple[FlavorCase, CaseData], packed: modelport.Artifact,
                        tmp_path: Path) -> None:
    _, data = case
    loaded = modelport.load(write_tar(packed.path, tmp_path / "m.tar"))
    assert loaded.digest == packed.digest
    rows = data.sample.head(4)
    _assert_close(loaded.predict(rows), data.expected(rows), data.atol)
