"""What a long-lived process does to the garbage collector once loaded: freeze it all, and wait for
YOUNG_THRESHOLD allocations (not Python's 700) between young passes, unless the user chose."""

from __future__ import annotations

import gc

import pytest

from modelport.core.collector import YOUNG_THRESHOLD, freeze_loaded

pytestmark = pytest.mark.usefixtures("default_collector")


def test_what_is_loaded_is_frozen_and_the_young_threshold_raised() -> None:
    assert gc.get_freeze_count() == 0
    freeze_loaded()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


@pytest.mark.parametrize("young", [200_000, 0])
def test_a_higher_threshold_or_a_disabled_collector_stays_as_the_user_set_it(young: int) -> None:
    gc.set_threshold(young, 5, 7)
    freeze_loaded()
    assert gc.get_threshold() == (young, 5, 7)


def test_the_older_generations_keep_their_thresholds() -> None:
    gc.set_threshold(1_000, 20, 30)
    freeze_loaded()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 20, 30)
