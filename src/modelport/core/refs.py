"""Model references, parsed purely: ``name:3``, ``name@production``, ``name``, a path, a digest.

The grammar, tried in this order:

- ``sha256:<64 hex>`` or a bare 64-character lowercase hex string: an artifact digest.
- text holding a path separator, starting with ``.`` or ``~``, or ending in ``.tar`` or
  ``.artifact``: a path to an artifact folder or ``.tar``.
- ``NAME:VERSION`` (VERSION a positive integer): one version of a model.
- ``NAME@ALIAS``: whatever version the alias points at (``latest`` is the newest live version).
- ``NAME``: its ``production`` alias, else its latest live version.

Nothing here touches a database or the file system; the registry decides what a ref names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from modelport.errors import RefError

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
NAME_MAX = 128
ALIAS_MAX = 64
#: the alias a bare name resolves to first
DEFAULT_ALIAS = "production"
#: an alias nobody sets: the newest version that is not archived
LATEST = "latest"
PATH_SUFFIXES = (".tar", ".artifact")

_DIGEST = re.compile(r"[0-9a-f]{64}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


class RefKind(StrEnum):
    """What a reference names."""

    VERSION = "version"
    ALIAS = "alias"
    NAME = "name"
    PATH = "path"
    DIGEST = "digest"


@dataclass(frozen=True)
class Ref:
    """A parsed model reference; ``text`` is what the user wrote."""

    text: str
    kind: RefKind
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return self.text


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name that reads back as a name, else raise RefError."""
    if not name or len(name) > NAME_MAX or not set(name) <= NAME_CHARS or name[0] in ".-":
        raise RefError(f"invalid model name {name!r}: use 1-{NAME_MAX} letters, digits, '-', '_' "
                       "or '.', not starting with '.' or '-'")
    if name.endswith(PATH_SUFFIXES) or _DIGEST.fullmatch(name):
        raise RefError(f"invalid model name {name!r}: it would read as a path or a digest")
    return name


def check_alias(alias: str, *, settable: bool = False) -> str:
    """Return ``alias`` if valid (a letter, then letters, digits, '_', '.', '-'), else raise."""
    if not alias or len(alias) > ALIAS_MAX or not _ALIAS.fullmatch(alias):
        raise RefError(f"invalid alias {alias!r}: use 1-{ALIAS_MAX} letters, digits, '_', '.' "
                       "or '-', starting with a letter")
    if settable and alias == LATEST:
        raise RefError(f"alias {LATEST!r} is reserved: it always means the newest live version")
    return alias


def check_version(text: str) -> int:
    """A version number written by a user: a positive integer."""
    if not text.isdigit() or text.startswith("0"):
        raise RefError(f"invalid version {text!r}: versions are positive integers (1, 2, 3, ...)")
    return int(text)


def is_path(text: str) -> bool:
    return ("/" in text or "\\" in text or text.startswith((".", "~"))
            or text.endswith(PATH_SUFFIXES))


def parse_ref(text: str) -> Ref:
    """Parse one reference, raising RefError that says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise RefError(f"empty model reference {text!r}")
    if text != text.strip():
        raise RefError(f"model reference {text!r} has surrounding whitespace")
    if text.startswith("sha256:"):
        digest = text.removeprefix("sha256:")
        if not _DIGEST.fullmatch(digest):
            raise RefError(f"invalid digest {text!r}: expected sha256: and 64 lowercase hex digits")
        return Ref(text, RefKind.DIGEST, digest=digest)
    if _DIGEST.fullmatch(text):
        return Ref(text, RefKind.DIGEST, digest=text)
    if is_path(text):
        return Ref(text, RefKind.PATH)
    if ":" in text and "@" in text:
        raise RefError(f"model reference {text!r} names both a version and an alias; use one")
    if ":" in text:
        name, _, version = text.partition(":")
        return Ref(text, RefKind.VERSION, name=check_name(name), version=check_version(version))
    if "@" in text:
        name, _, alias = text.partition("@")
        return Ref(text, RefKind.ALIAS, name=check_name(name), alias=check_alias(alias))
    return Ref(text, RefKind.NAME, name=check_name(text))


def format_version(name: str, version: int) -> str:
    """The canonical ref of one version, as ``pack --name`` prints it."""
    return f"{name}:{version}"
