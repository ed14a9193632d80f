"""Sampling decided by the id alone, and salted hashing of sensitive inputs."""

from __future__ import annotations

import hashlib

import numpy as np

from modelport.predictions.policy import hash_values, sample_mask, sampled_in
from tests.unit.predictions.helpers import numbered


def test_sampling_keeps_about_the_rate_and_always_the_same_ids() -> None:
    ids = numbered(0, 20_000)
    mask = sample_mask(ids, 0.25)
    assert 0.23 < mask.mean() < 0.27
    assert np.array_equal(mask, sample_mask(ids, 0.25))
    assert [sampled_in(i, 0.25) for i in ids[:50]] == mask[:50].tolist()


def test_a_lower_rate_keeps_a_subset_of_a_higher_one() -> None:
    ids = numbered(0, 5_000)
    low, high = sample_mask(ids, 0.1), sample_mask(ids, 0.5)
    assert low.any()
    assert not (low & ~high).any()


def test_rates_zero_and_one_are_none_and_all() -> None:
    ids = numbered(0, 100)
    assert sample_mask(ids, 1.0).all()
    assert not sample_mask(ids, 0.0).any()


def test_hashes_are_salted_sha256_of_the_text_and_missing_stays_missing() -> None:
    values = np.array(["alice", 42, None, np.nan, "alice"], dtype=object)
    hashed = hash_values(values, "pepper")
    assert hashed[0] == hashlib.sha256(b"pepperalice").hexdigest() == hashed[4]
    assert hashed[1] == hashlib.sha256(b"pepper42").hexdigest()
    assert hashed[2] is None
    assert hashed[3] is None
    assert hash_values(values, "salt")[0] != hashed[0]
