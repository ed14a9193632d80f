"""The keras flavor: legacy .h5 files stay .h5, weights-only files are not models, and keras models
(torch nn.Modules too, on this backend) go to the keras flavor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from modelport.artifact.flavors import flavor_for_model
from modelport.artifact.flavors.keras import KerasFlavor
from modelport.inference.pack import pack_file
from tests.flavor_cases.keras_cases import _trained_regressor


def test_h5_file_is_kept_and_loaded_as_h5(tmp_path: Path) -> None:
    model, x = _trained_regressor()
    source = tmp_path / "net.h5"
    model.save(source)
    artifact = pack_file(source, name="h", sample=x, out=tmp_path / "a")
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    assert manifest["flavor_meta"] == {"file": "model.h5", "format": "h5"}
    assert (artifact.path / "model" / "model.h5").read_bytes() == source.read_bytes()
    rows = x.head(9)
    np.testing.assert_allclose(artifact.load().predict(rows),
                               model.predict(rows.to_numpy(), verbose=0)[:, 0], atol=1e-5)


def test_weights_only_h5_is_not_a_model(tmp_path: Path) -> None:
    model, _ = _trained_regressor()
    path = tmp_path / "net.weights.h5"
    model.save_weights(path)
    assert not KerasFlavor().detect(path)


def test_keras_model_goes_to_keras_not_torch() -> None:
    model, _ = _trained_regressor()
    assert flavor_for_model(model).name == "keras"
