"""The ref grammar: every form parses to what it names, and malformed refs say why."""

from __future__ import annotations

import pytest

from modelport.core.refs import Ref, RefKind, check_name, parse_ref
from modelport.errors import RefError

DIGEST = "ab" * 32


@pytest.mark.parametrize(("text", "expected"), [
    ("churn:3", Ref("churn:3", RefKind.VERSION, name="churn", version=3)),
    ("churn@production", Ref("churn@production", RefKind.ALIAS, name="churn", alias="production")),
    ("churn@latest", Ref("churn@latest", RefKind.ALIAS, name="churn", alias="latest")),
    ("credit-risk_v2.1", Ref("credit-risk_v2.1", RefKind.NAME, name="credit-risk_v2.1")),
    (DIGEST, Ref(DIGEST, RefKind.DIGEST, digest=DIGEST)),
    (f"sha256:{DIGEST}", Ref(f"sha256:{DIGEST}", RefKind.DIGEST, digest=DIGEST)),
    ("./churn", Ref("./churn", RefKind.PATH)),
    ("models/churn", Ref("models/churn", RefKind.PATH)),
    ("/abs/churn.artifact", Ref("/abs/churn.artifact", RefKind.PATH)),
    ("churn.tar", Ref("churn.tar", RefKind.PATH)),
    ("churn.artifact", Ref("churn.artifact", RefKind.PATH)),
    ("~/churn", Ref("~/churn", RefKind.PATH)),
])
def test_each_form_parses(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected
    assert str(parse_ref(text)) == text


@pytest.mark.parametrize(("text", "match"), [
    ("", "empty"),
    ("  ", "empty"),
    (" churn", "whitespace"),
    ("churn:", "positive integers"),
    ("churn:0", "positive integers"),
    ("churn:01", "positive integers"),
    ("churn:-1", "positive integers"),
    ("churn:1.5", "positive integers"),
    ("churn@", "invalid alias"),
    ("churn@1st", "invalid alias"),
    ("churn@prod uction", "invalid alias"),
    ("churn:1@production", "both a version and an alias"),
    ("-churn", "invalid model name"),
    ("ch urn", "invalid model name"),
    ("c" * 129, "invalid model name"),
    (":3", "invalid model name"),
    ("sha256:xyz", "invalid digest"),
    ("sha256:" + "AB" * 32, "invalid digest"),
])
def test_malformed_refs_are_refused_with_the_reason(text: str, match: str) -> None:
    with pytest.raises(RefError, match=match):
        parse_ref(text)


def test_names_that_would_read_back_as_something_else_are_refused() -> None:
    for name in ("churn.tar", "churn.artifact", DIGEST):
        with pytest.raises(RefError, match="would read as a path or a digest"):
            check_name(name)
    assert check_name("churn.v2") == "churn.v2"


def test_ref_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid version"):
        parse_ref("churn:x")
