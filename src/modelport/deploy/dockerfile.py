"""Write a container build context that installs exactly an artifact's lock and verifies it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelport.artifact.files import verify_tree
from modelport.artifact.lock import LOCK_FILE, Lock
from modelport.deploy.source import build_wheel
from modelport.errors import DeployError
from modelport.inference.load import verify

HEADER = "# Dockerfile written by `modelport dockerfile`"
ARTIFACT_FOLDER = "artifact"
WHEEL_FOLDER = "dist"
PORT = 8080
#: where the image holds the artifact
IMAGE_ARTIFACT = "/artifact"

TEMPLATE = """{header} for artifact {name} ({digest}).
# Build: docker build -t {tag} .   (or: buildah bud -t {tag} .)
# The base image is the Python the artifact was packed with (requirements.lock: python=={python}).
FROM {base_image}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# Exactly the artifact's lock: --no-deps installs those versions and nothing else, pip check
# proves nothing is missing.
COPY {lock} /build/{lock}
RUN pip install --no-deps --no-input -r /build/{lock} && pip check

# modelport itself, without touching the locked packages.
COPY {wheel_folder}/{wheel} /build/{wheel}
RUN pip install --no-deps --no-input /build/{wheel} && rm -rf /build

# The artifact, verified at build time: digests, lock and golden rows must hold or the build fails.
COPY {artifact} {image_artifact}
RUN modelport verify {image_artifact}

RUN useradd --create-home --uid 10001 modelport
USER modelport
EXPOSE {port}
# `modelport serve` arrives in a later release; until then this image proves at build time that
# the artifact verifies in it, and this command is what will serve it.
CMD ["modelport", "serve", "{image_artifact}", "--host", "0.0.0.0", "--port", "{port}"]
"""


@dataclass(frozen=True)
class BuildContext:
    """A folder holding a Dockerfile and every file it copies."""

    directory: Path
    base_image: str
    tag: str
    wheel: str
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "base_image": self.base_image, "tag": self.tag,
                "wheel": self.wheel, "digest": self.digest}


def image_tag(name: str, digest: str) -> str:
    """A docker image reference for an artifact: lower-case name, digest prefix as the tag."""
    return f"modelport-{name.lower()}:{digest[:12]}"


def dockerfile_text(*, name: str, digest: str, python: str, base_image: str, wheel: str) -> str:
    return TEMPLATE.format(header=HEADER, name=name, digest=digest, tag=image_tag(name, digest),
                           python=python or "unknown", base_image=base_image, lock=LOCK_FILE,
                           wheel_folder=WHEEL_FOLDER, wheel=wheel, artifact=ARTIFACT_FOLDER,
                           image_artifact=IMAGE_ARTIFACT, port=PORT)


def prepare(directory: Path, *, overwrite: bool) -> None:
    """Refuse a non-empty target unless modelport wrote it and ``overwrite`` says to replace it."""
    if not directory.exists() or not any(directory.iterdir()):
        return
    dockerfile = directory / "Dockerfile"
    ours = dockerfile.is_file() and dockerfile.read_text().startswith(HEADER)
    if overwrite and ours:
        shutil.rmtree(directory)
        return
    reason = (f"{directory} was not written by modelport dockerfile; choose an empty folder"
              if overwrite else f"{directory} exists and is not empty (pass --force to replace "
              "a context modelport wrote)")
    raise DeployError("preparing the build context", reason)


def write_context(artifact: Path, directory: Path, *, modelport_source: Path | None = None,
                  base_image: str | None = None, overwrite: bool = False) -> BuildContext:
    """Write ``directory``: Dockerfile, the artifact, its lock and a modelport wheel."""
    verified = verify(artifact, allow_env_mismatch=True)
    lock = Lock.from_text((verified.root / LOCK_FILE).read_text())
    if base_image is None:
        if not lock.python:
            raise DeployError("choosing the base image", "the artifact's lock records no Python "
                              "version; pass --base-image")
        base_image = f"python:{lock.python}-slim"
    prepare(directory, overwrite=overwrite)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(verified.root, directory / ARTIFACT_FOLDER)
    verify_tree(directory / ARTIFACT_FOLDER, verified.manifest.files)
    shutil.copyfile(verified.root / LOCK_FILE, directory / LOCK_FILE)
    wheel = build_wheel(directory / WHEEL_FOLDER, modelport_source)
    name = verified.manifest.name
    (directory / "Dockerfile").write_text(dockerfile_text(
        name=name, digest=verified.digest, python=lock.python, base_image=base_image,
        wheel=wheel.name))
    return BuildContext(directory, base_image, image_tag(name, verified.digest), wheel.name,
                        verified.digest)
