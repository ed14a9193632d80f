"""Shadow against primary on fixed data: agreement, score differences, segments, latency, lost copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.promotion.shadow import compare_shadow, shadow_versions, split_roles


def primary_rows() -> pd.DataFrame:
    good = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
    return pd.DataFrame({
        "id": [f"p{i}" for i in range(8)], "model": "credit", "version": "1", "role": "primary",
        "status": [200] * 7 + [500], "latency_ms": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "prediction": ["good" if g >= 0.5 else "bad" for g in good],
        "proba.good": good, "proba.bad": [1 - g for g in good],
        "input.age": [20, 25, 30, 35, 40, 45, 50, 55],
        "input.home": ["rent", "own"] * 4,
    })


def shadow_rows() -> pd.DataFrame:
    good = [0.9, 0.75, 0.7, 0.4, 0.6, 0.5]
    return pd.DataFrame({
        "id": [f"s{i}" for i in range(6)], "primary_id": [f"p{i}" for i in range(6)], "model": "credit",
        "version": "2", "role": "shadow", "status": [200] * 5 + [500],
        "latency_ms": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        "prediction": ["good" if g >= 0.5 else "bad" for g in good],
        "proba.good": good, "proba.bad": [1 - g for g in good],
    })


def test_agreement_differences_and_latency_of_a_classifier_shadow() -> None:
    found = compare_shadow(primary_rows(), shadow_rows(), min_rows=1, bins=2)
    assert (found.pairs, found.missing_shadow, found.shadow_failures) == (5, 1, 1)
    assert found.agreement == pytest.approx(0.6)
    assert found.mean_difference == pytest.approx((0.0 + 0.05 + 0.0 + 0.2 + 0.2) / 5)
    assert found.max_difference == pytest.approx(0.2)
    assert (found.primary_latency.n, found.primary_latency.mean_ms) == (5, 3.0)
    assert found.shadow_latency.mean_ms == 30.0
    assert found.shadow_latency.p99_ms == pytest.approx(float(np.percentile([10, 20, 30, 40, 50], 99)))


def test_segments_are_ranked_by_disagreement() -> None:
    found = compare_shadow(primary_rows(), shadow_rows(), min_rows=1, bins=2)
    ranked = [(s.feature, s.segment, s.rows, round(s.disagreement, 3)) for s in found.segments]
    assert ranked == [
        ("age", "(30.0, 40.0]", 2, 1.0),
        ("home", "own", 2, 0.5),
        ("home", "rent", 3, 0.333),
        ("age", "(19.999, 30.0]", 3, 0.0),
    ]
    assert found.segments[1].mean_difference == pytest.approx(0.125)
    assert [s.segment for s in compare_shadow(primary_rows(), shadow_rows(), min_rows=3, bins=2).segments] \
        == ["rent", "(19.999, 30.0]"]
    assert len(compare_shadow(primary_rows(), shadow_rows(), min_rows=1, bins=2, top=1).segments) == 1


def test_a_regressor_shadow_agrees_within_the_tolerance() -> None:
    primary = pd.DataFrame({"id": ["a", "b", "c", "d"], "status": 200, "latency_ms": 1.0,
                            "prediction": [1.0, 2.0, 3.0, 4.0], "input.x": [1, 2, 3, 4]})
    shadow = pd.DataFrame({"primary_id": ["a", "b", "c", "d"], "status": 200, "latency_ms": 2.0,
                           "prediction": [1.0, 2.05, 3.5, 4.0]})
    found = compare_shadow(primary, shadow, tolerance=0.1, min_rows=1)
    assert found.agreement == 0.75
    assert found.mean_difference == pytest.approx(0.55 / 4)
    assert found.max_difference == pytest.approx(0.5)


def test_no_pairs_and_a_missing_link_column() -> None:
    empty = compare_shadow(primary_rows(), shadow_rows().iloc[0:0])
    assert (empty.pairs, empty.agreement, empty.max_difference, empty.missing_shadow) == (0, None, None, 7)
    assert empty.to_dict()["primary_latency"]["mean_ms"] is None
    with pytest.raises(ValueError, match="no 'primary_id' column"):
        compare_shadow(primary_rows(), shadow_rows().drop(columns="primary_id"))


def test_roles_split_from_one_log_frame() -> None:
    frame = pd.concat([primary_rows(), shadow_rows()], ignore_index=True)
    assert shadow_versions(frame) == ["credit:2"]
    served, shadow = split_roles(frame, "credit:2")
    assert (len(served), len(shadow)) == (8, 6)
    assert split_roles(frame, "credit:9")[1].empty
    assert compare_shadow(served, shadow, min_rows=1).pairs == 5
