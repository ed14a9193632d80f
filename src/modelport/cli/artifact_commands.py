"""``modelport pack | inspect | verify | predict``: the artifact from the command line."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.cli.errors import handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.cli.tables import read_table, write_table
from modelport.core.refs import check_name
from modelport.errors import ModelportError
from modelport.inference import golden
from modelport.inference.load import load, open_verified, verify
from modelport.inference.pack import Artifact, pack_file
from modelport.registry.records import ModelVersion, Resolved
from modelport.settings import Settings

console = Console()
err_console = Console(stderr=True)
REF_HELP = "artifact folder or .tar, or a registered NAME, NAME:VERSION, NAME@ALIAS or digest"
MODEL_FILE_HELP = "model file: .skops .joblib .json .txt .onnx .keras .h5 .pt .py"


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} must look like KEY=VALUE, got {item!r}")
        out[key] = value
    return out


@handle_errors
def pack_command(
    model_file: Annotated[Path, typer.Argument(help=MODEL_FILE_HELP)],
    name: Annotated[str, typer.Option("--name", help="model name")],
    sample: Annotated[Path, typer.Option("--sample", help="training sample: csv, parquet, json, jsonl")],
    flavor: Annotated[str | None, typer.Option(help="flavor; detected from the file when omitted")] = None,
    preprocess: Annotated[Path | None, typer.Option(help="Python file with preprocess(frame)")] = None,
    trust_pickle: Annotated[bool, typer.Option("--trust-pickle", help="accept a joblib/pickle file")] = False,
    label_column: Annotated[str | None, typer.Option(help="ground-truth column of the sample")] = None,
    labels: Annotated[str | None, typer.Option(help="comma-separated class labels (networks)")] = None,
    task: Annotated[str | None, typer.Option(help="classification, regression or other")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable")] = None,
    metric: Annotated[list[str] | None, typer.Option(help="KEY=NUMBER, repeatable")] = None,
    out: Annotated[Path | None, typer.Option(help="also keep the artifact folder here")] = None,
    tar: Annotated[bool, typer.Option("--tar", help="also write OUT.tar")] = False,
    force: Annotated[bool, typer.Option("--force", help="replace OUT if it exists")] = False,
    register: Annotated[bool, typer.Option("--register/--no-register",
                                           help="register NAME:VERSION (--no-register needs --out)")] = True,
    alias: Annotated[str | None, typer.Option("--alias", help="point this alias at the new version")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="why, kept in the history")] = None,
) -> None:
    """Pack a model file with its sample into a verified artifact and register it as NAME:VERSION."""
    if out is None and (tar or not register):
        raise typer.BadParameter("--tar and --no-register need --out")
    if register:
        check_name(name)  # refuse a name the registry would refuse before spending a pack on it
    options: dict[str, Any] = {
        "name": name, "sample": sample, "flavor": flavor, "preprocess": preprocess,
        "trust_pickle": trust_pickle, "label_column": label_column, "labels": labels, "task": task,
        "tag": tag or [], "metric": metric or [], "tar": tar, "force": force}
    if out is not None:
        artifact = pack_artifact(model_file, out=out, **options)
        _packed(artifact, registering=register, kept=True)
        if register:
            _register(artifact, move=False, alias=alias, reason=reason)
        return
    home = Settings.from_env().home
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pack-", dir=home) as scratch:
        artifact = pack_artifact(model_file, out=Path(scratch) / "artifact", **options)
        _packed(artifact, registering=True, kept=False)
        _register(artifact, move=True, alias=alias, reason=reason)


def _packed(artifact: Artifact, *, registering: bool, kept: bool) -> None:
    """Say what was packed; on stderr when stdout is kept for NAME:VERSION."""
    out = err_console if registering else console
    where = f" → {artifact.path}" if kept else ""
    out.print(f"packed [bold]{artifact.manifest.name}[/] ({artifact.manifest.flavor}, "
              f"{artifact.manifest.task}){where}", highlight=False)
    out.print(f"digest {artifact.digest}", highlight=False)


def _register(artifact: Artifact, *, move: bool, alias: str | None, reason: str | None) -> ModelVersion:
    with open_registry() as registry:
        version = registry.register(artifact.path, name=artifact.manifest.name, move=move,
                                    reason=reason)
        if alias is not None:
            registry.set_alias(version.name, alias, version.version, reason=reason)
    typer.echo(version.ref)
    return version


def pack_artifact(model_file: Path, *, name: str, sample: Path, flavor: str | None,
                  preprocess: Path | None, trust_pickle: bool, label_column: str | None,
                  labels: str | None, task: str | None, tag: list[str], metric: list[str],
                  out: Path | None, tar: bool, force: bool) -> Artifact:
    metrics = {k: float(v) for k, v in _pairs(metric, "--metric").items()}
    return pack_file(
        model_file, flavor=flavor, trust_pickle=trust_pickle, name=name,
        sample=read_table(sample), preprocess=preprocess, label_column=label_column,
        labels=labels.split(",") if labels else None, task=task, tags=_pairs(tag, "--tag"),
        metrics=metrics, out=out, tar=tar, overwrite=force)


def _status(path: Path, allow_env_mismatch: bool) -> dict[str, Any]:
    """Run every check in order, recording each outcome instead of stopping at the first."""
    status: dict[str, Any] = {"digests": "unchecked", "lock": "unchecked", "golden": "unchecked"}
    try:
        verified = verify(path, allow_env_mismatch=True)
    except ModelportError as exc:
        status["digests"] = f"FAILED: {exc}"
        return status
    status.update(digests="ok", manifest=verified.manifest.to_dict(), digest=verified.digest)
    status["environment"] = {"errors": verified.environment.errors,
                             "warnings": verified.environment.warnings}
    status["lock"] = "ok" if not verified.environment.errors else "FAILED: " + "; ".join(
        verified.environment.errors)
    if verified.environment.errors and not allow_env_mismatch:
        status["golden"] = "skipped: environment mismatch"
        return status
    try:
        result = golden.run(open_verified(verified), verified.root)
    except ModelportError as exc:
        status["golden"] = f"FAILED: {exc}"
        return status
    status["golden_result"] = result.to_dict()
    status["golden"] = "ok" if result.passed else (
        f"FAILED: rows {result.failed_rows} differ by up to {result.max_difference:.3g}")
    return status


def _resolve(ref: str, *, allow_archived: bool) -> Resolved:
    """The artifact folder a path or registered ref names (paths never touch the database)."""
    with open_registry() as registry:
        return registry.resolve(ref, allow_archived=allow_archived)


def _ok(status: dict[str, Any]) -> bool:
    return all(status[k] == "ok" for k in ("digests", "lock", "golden"))


@handle_errors
def inspect_command(
    ref: Annotated[str, typer.Argument(help=REF_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show the manifest, signature, lock and golden status of an artifact."""
    resolved = _resolve(ref, allow_archived=True)
    status = _status(resolved.path, allow_env_mismatch=False)
    if resolved.version is not None:
        status["version"] = resolved.version.to_dict()
    if as_json:
        typer.echo(json.dumps(status, indent=2, default=str))
        return
    manifest = status.get("manifest")
    if manifest is None:
        console.print(f"[red]{status['digests']}[/]")
        raise typer.Exit(4)
    summary = Table(title=f"artifact {manifest['name']}", show_header=False)
    for key in ("flavor", "task", "labels"):
        summary.add_row(key, str(manifest[key]))
    summary.add_row("digest", status["digest"])
    if resolved.version is not None:
        archived = " (archived)" if resolved.version.archived else ""
        summary.add_row("registered as", resolved.version.ref + archived)
    for key, value in manifest["lineage"].items():
        summary.add_row(key, str(value))
    console.print(summary)
    sig = Table(title="input signature")
    for col in ("name", "kind", "nullable", "range / levels"):
        sig.add_column(col)
    for spec in manifest["signature"]["inputs"]:
        extra = spec.get("levels") or (
            f"[{spec['minimum']:g}, {spec['maximum']:g}]" if spec.get("minimum") is not None else "")
        sig.add_row(spec["name"], spec["kind"], str(spec["nullable"]), str(extra))
    console.print(sig)
    path = resolved.path
    lock = Lock.from_text((path / LOCK_FILE).read_text()) if path.is_dir() else None
    env = Table(title="environment")
    env.add_column("check")
    env.add_column("result")
    env.add_row("python / platform", f"{manifest['environment'].get('python')} / "
                f"{manifest['environment'].get('platform')}")
    env.add_row("frameworks", ", ".join(f"{k}=={v}" for k, v in
                                        manifest["environment"].get("frameworks", {}).items()))
    if lock is not None:
        env.add_row("locked packages", str(len(lock.packages)))
    for key in ("digests", "lock", "golden"):
        env.add_row(key, status[key])
    for warning in status.get("environment", {}).get("warnings", []):
        env.add_row("warning", warning)
    console.print(env)


@handle_errors
def verify_command(
    ref: Annotated[str, typer.Argument(help=REF_HELP)],
    allow_env_mismatch: Annotated[bool, typer.Option("--allow-env-mismatch")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Check digests, the dependency lock and the golden rows; exit 0 only when all hold."""
    status = _status(_resolve(ref, allow_archived=True).path, allow_env_mismatch)
    ok = _ok(status) or (allow_env_mismatch and status["digests"] == "ok" and status["golden"] == "ok")
    if as_json:
        typer.echo(json.dumps({k: status[k] for k in ("digests", "lock", "golden")} | {"ok": ok}))
    else:
        for key in ("digests", "lock", "golden"):
            colour = "green" if status[key] == "ok" else "red"
            console.print(f"{key:8} [{colour}]{status[key]}[/]", highlight=False)
        console.print("[bold green]verified[/]" if ok else "[bold red]NOT verified[/]")
    if not ok:
        raise typer.Exit(4)


@handle_errors
def predict_command(
    ref: Annotated[str, typer.Argument(help=REF_HELP)],
    input_file: Annotated[Path, typer.Argument(help="rows to score: csv, parquet, json, jsonl")],
    out: Annotated[Path | None, typer.Option(help="write predictions here (by suffix)")] = None,
    allow_env_mismatch: Annotated[bool, typer.Option("--allow-env-mismatch")] = False,
) -> None:
    """Predict the rows of a file with an artifact (archived versions are not served)."""
    model = load(_resolve(ref, allow_archived=False).path, allow_env_mismatch=allow_env_mismatch)
    result = model.predict_detailed(read_table(input_file),
                                    proba=model.task == "classification")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    frame = result.to_frame()
    if out is None:
        frame.to_json(sys.stdout, orient="records", lines=True)
    else:
        write_table(frame, out)
        console.print(f"wrote {len(frame)} predictions to {out}")
