"""Pack a live model, its preprocessing and sample into a verified artifact folder."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.artifact import lock as lockmod
from modelport.artifact import preprocess as prep
from modelport.artifact.archive import write_tar
from modelport.artifact.files import MODEL_FOLDER, check_relative, digest_tree
from modelport.artifact.flavors import Flavor, PreparesModel, flavor_for_file, flavor_for_model, get_flavor
from modelport.artifact.flavors.base import LABELS_FROM_PROBABILITIES
from modelport.artifact.manifest import TASKS, Manifest, write_manifest
from modelport.core.frames import to_frame
from modelport.core.schema import ColumnKind, OutputSpec, Signature, infer_signature
from modelport.core.validation import check
from modelport.errors import (
    ArtifactFormatError,
    FlavorError,
    GoldenCheckError,
    Problem,
    SchemaError,
)
from modelport.inference import golden, reference
from modelport.inference.model import LABELS_NAME_INDICES, LoadedModel, Prediction, score_transform

#: sample rows handed to a flavor's ``prepare`` (tracing a network needs an example input)
EXAMPLE_ROWS = 32
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class Artifact:
    """A packed artifact on disk: its folder, id (manifest digest), manifest and optional tar."""

    path: Path
    digest: str
    manifest: Manifest
    tar_path: Path | None = None

    def load(self, *, allow_env_mismatch: bool = False, device: str = "cpu") -> LoadedModel:
        from modelport.inference.load import load

        return load(self.path, allow_env_mismatch=allow_env_mismatch, device=device)


def check_name(name: str) -> str:
    if not name or len(name) > 128 or not set(name) <= NAME_CHARS or name[0] in ".-":
        raise ArtifactFormatError(
            f"invalid model name {name!r}: use 1-128 letters, digits, '-', '_' or '.', "
            "not starting with '.' or '-'")
    return name


def _sample_frame(sample: Any) -> pd.DataFrame:
    if isinstance(sample, np.ndarray):
        array = sample.reshape(-1, 1) if sample.ndim == 1 else sample
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    frame = to_frame(sample, Signature(()))
    if frame.empty:
        raise SchemaError([Problem("<sample>", "the sample has no rows")])
    return frame.reset_index(drop=True)


def _split_target(frame: pd.DataFrame, target: Any, label_column: str | None
                  ) -> tuple[pd.DataFrame, pd.Series | None]:
    if label_column is not None:
        if label_column not in frame.columns:
            raise SchemaError([Problem(label_column, "label column is not in the sample")])
        return frame.drop(columns=[label_column]), frame[label_column].reset_index(drop=True)
    if target is None:
        return frame, None
    series = pd.Series(np.asarray(target)).reset_index(drop=True)
    if len(series) != len(frame):
        raise SchemaError([Problem("<target>", f"{len(series)} labels for {len(frame)} sample rows")])
    return frame, series


def _known_labels(classes: list[Any] | None, labels: Sequence[Any] | None
                  ) -> tuple[list[Any] | None, bool]:
    """The labels outputs are named by, and whether they rename the model's class indices.

    A model that knows its classes only as indices 0..k-1 (XGBoost needs encoded targets) takes
    ``labels`` as the names of those indices.
    """
    if classes is None:
        return (None if labels is None else list(labels)), False
    if labels is None or [str(c) for c in labels] == [str(c) for c in classes]:
        return classes, False
    if classes == list(range(len(labels))):
        return list(labels), True
    raise FlavorError(f"labels {list(labels)} differ from the model's own classes {classes}")


def _task(flavor: Flavor, model: object, task: str | None, labels: Sequence[Any] | None
          ) -> tuple[str, list[Any] | None, bool]:
    known, renamed = _known_labels(flavor.classes(model), labels)
    if task is None:
        task = "classification" if known is not None else "regression"
    if task not in TASKS:
        raise FlavorError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task != "classification":
        return task, None, False
    return task, known, renamed


def _git_commit() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True,
                               check=True, timeout=10).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": commit, "git_dirty": dirty}


def _sample_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(map(str, frame.columns)).encode()).hexdigest()


def _outputs(task: str, labels: list[Any] | None) -> tuple[OutputSpec, ...]:
    if task == "classification":
        kind = ColumnKind.CATEGORY
        probs = (OutputSpec("probabilities", ColumnKind.FLOAT, (len(labels or []),)),)
        return (OutputSpec("prediction", kind), *probs)
    if task == "regression":
        return (OutputSpec("prediction", ColumnKind.FLOAT),)
    return (OutputSpec("prediction", ColumnKind.FLOAT, (-1,)),)


def _framework_versions(flavor: Flavor) -> dict[str, str]:
    found = {}
    for name in flavor.frameworks:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _modelport_version() -> str:
    try:
        return metadata.version("modelport")
    except metadata.PackageNotFoundError:
        return "unknown"


def pack(
    model: Any,
    *,
    name: str,
    sample: Any,
    preprocess: Any = None,
    labels: Sequence[Any] | None = None,
    task: str | None = None,
    target: Any = None,
    label_column: str | None = None,
    flavor: str | None = None,
    columns: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    trust_pickle: bool = False,
    out: str | Path | None = None,
    tar: bool = False,
    overwrite: bool = False,
    source: Path | None = None,
) -> Artifact:
    """Pack ``model`` into a verified artifact folder and return it.

    ``sample`` is raw training input (what ``predict`` will receive), used for the signature,
    golden rows and reference sample; ``target`` or ``label_column`` gives its ground truth.
    ``labels`` are class labels for models that do not know their own (networks).
    """
    check_name(name)
    chosen = get_flavor(flavor) if flavor else flavor_for_model(model)
    inputs, truth = _split_target(_sample_frame(sample), target, label_column)
    signature = infer_signature(inputs)
    if columns:
        signature = signature.with_overrides(columns)
    live_prep = prep.live(preprocess) if preprocess is not None else None
    task_name, known_labels, renamed = _task(chosen, model, task, labels)
    frame, _ = check(inputs, signature)
    if isinstance(chosen, PreparesModel):
        example = frame.head(EXAMPLE_ROWS)
        model = chosen.prepare(model, live_prep.apply(example) if live_prep else example)

    target_dir = Path(out) if out is not None else Path.cwd() / f"{name}.artifact"
    if target_dir.exists() and any(target_dir.iterdir()) and not overwrite:
        raise ArtifactFormatError(f"{target_dir} exists and is not empty (pass overwrite=True / --force)")
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target_dir.parent))
    try:
        (staging / MODEL_FOLDER).mkdir()
        meta = chosen.save(model, staging / MODEL_FOLDER, source)
        if renamed:
            meta[LABELS_NAME_INDICES] = True
        if meta.get("serialization") == "pickle" and not trust_pickle:
            raise FlavorError("this model can only be stored as a pickle: pass trust_pickle=True "
                              "(--trust-pickle) if you trust it")
        draft = Manifest(name=name, flavor=chosen.name, task=task_name, signature=signature,
                         files={}, labels=known_labels, flavor_meta=meta)
        live = _live_model(draft, chosen, model, live_prep, frame)
        manifest = _write(staging, live, frame, inputs, truth, preprocess, trust_pickle,
                          tags or {}, metrics or {})
        digest = write_manifest(staging, manifest)
        _verify_round_trip(staging)
        if target_dir.exists():
            shutil.rmtree(target_dir)
        staging.replace(target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    tar_path = write_tar(target_dir, target_dir.with_suffix(".tar")) if tar else None
    return Artifact(target_dir, digest, manifest, tar_path)


def _live_model(draft: Manifest, flavor: Flavor, model: Any, live_prep: prep.Preprocessor | None,
                frame: pd.DataFrame) -> LoadedModel:
    """The in-memory model on the shared path; for networks, decide how scores become probabilities."""
    live = LoadedModel(draft, flavor, model, live_prep, "", None)
    if draft.task != "classification":
        return live
    if flavor.classes(model) is not None:
        return _one_pass_if_equal(live, frame)
    features = live_prep.apply(frame.head(200)) if live_prep else frame.head(200)
    scores = flavor.run(model, features, draft.flavor_meta, proba=True)
    if scores.probabilities is not None or scores.values is None:
        return live
    meta = {**draft.flavor_meta, "scores": score_transform(np.asarray(scores.values))}
    labels = draft.labels
    if labels is None:
        width = 1 if np.ndim(scores.values) == 1 else np.shape(scores.values)[1]
        labels = [0, 1] if width == 1 else list(range(width))
    draft = replace(draft, flavor_meta=meta, labels=labels)
    return LoadedModel(draft, flavor, model, live_prep, "", None)


def _one_pass_if_equal(live: LoadedModel, frame: pd.DataFrame) -> LoadedModel:
    """Mark a classifier whose labels are the argmax of its probabilities on the whole sample."""
    outputs = live.predict_frame(frame, proba=True)
    if outputs.probabilities is None or outputs.labels is None:
        return live
    argmax = np.asarray(outputs.labels, dtype=object)[outputs.probabilities.argmax(axis=1)]
    if [str(v) for v in outputs.values] != [str(v) for v in argmax]:
        return live
    meta = {**live.meta, LABELS_FROM_PROBABILITIES: True}
    return LoadedModel(replace(live.manifest, flavor_meta=meta), live.flavor, live.model,
                       live.preprocessor, "", None)


def _write(root: Path, live: LoadedModel, frame: pd.DataFrame, inputs: pd.DataFrame,
           truth: pd.Series | None, preprocess: Any, trust_pickle: bool, tags: Mapping[str, str],
           metrics: Mapping[str, float]) -> Manifest:
    """Write everything but the model (already saved) and return the manifest describing it."""
    flavor = live.flavor
    prep_entry = prep.save(preprocess, root) if preprocess is not None else None

    modules = flavor.modules(live.model) | (live.preprocessor.modules if live.preprocessor else set())
    lock = lockmod.capture(["modelport", *flavor.frameworks], modules)
    packages = {k: v for k, v in lock.packages.items() if k != "modelport"}
    (root / lockmod.LOCK_FILE).write_text(lockmod.Lock(packages, lock.python, lock.platform).to_text())

    rows = golden.choose_rows(frame)
    golden.write(root, golden.choose_rows(inputs), live.predict_frame(rows))

    chosen = reference.choose_rows(frame)
    ref_inputs = frame.iloc[chosen].reset_index(drop=True)
    ref_truth = truth.iloc[chosen].reset_index(drop=True) if truth is not None else None
    prediction: Prediction = live.predict_frame(ref_inputs)
    importances: dict[str, dict[str, float]] = {}
    exposed = reference.model_importances(live)
    if exposed:
        importances["model"] = exposed
    if truth is not None and live.task in ("classification", "regression"):
        importances["permutation"] = reference.permutation_importances(live, frame, truth)
    reference.write(root, reference.sample_frame(inputs.iloc[chosen], prediction, ref_truth),
                    importances)

    for name in digest_tree(root):
        check_relative(name)
    lineage: dict[str, Any] = {
        "sample_rows": len(inputs),
        "sample_sha256": _sample_hash(inputs),
        "tags": dict(tags),
        "metrics": {k: float(v) for k, v in metrics.items()},
        **_git_commit(),
    }
    environment = {
        "python": lock.python,
        "platform": lock.platform,
        "frameworks": _framework_versions(flavor),
        "modelport": _modelport_version(),
    }
    signature = Signature(live.signature.inputs, _outputs(live.task, live.labels))
    return Manifest(
        name=live.name, flavor=flavor.name, task=live.task, signature=signature,
        files=digest_tree(root), labels=_plain_labels(live.labels), flavor_meta=dict(live.meta),
        preprocess=prep_entry, lineage=lineage, environment=environment,
        golden={"rows": len(rows), "tolerance": flavor.tolerance},
        reference={"rows": len(chosen), "has_target": truth is not None,
                   "importances": sorted(importances)},
        trust_pickle=trust_pickle,
    )


def _plain_labels(labels: list[Any] | None) -> list[Any] | None:
    return None if labels is None else np.asarray(labels).tolist()


def _verify_round_trip(root: Path) -> None:
    """Load what was written, in this process, and run its golden check: pack never lies."""
    from modelport.inference.load import load

    try:
        load(root)
    except GoldenCheckError as exc:
        raise FlavorError(f"the packed model does not reproduce the live model's outputs: {exc}") from exc


def pack_file(path: Path, *, flavor: str | None = None, trust_pickle: bool = False,
              **options: Any) -> Artifact:
    """Pack a model file (what ``modelport pack MODEL_FILE`` does)."""
    chosen = get_flavor(flavor) if flavor else flavor_for_file(path)
    model = chosen.read(path, trust_pickle=trust_pickle)
    return pack(model, flavor=chosen.name, trust_pickle=trust_pickle, source=path, **options)
