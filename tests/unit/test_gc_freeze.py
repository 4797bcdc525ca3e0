"""Start-up objects are exempt from collection; web processes do it, with WARM_START, once\nthe app is loaded."""

from __future__ import annotations

import gc

import pytest

from app.runtime import gc_freeze


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_freezing_exempts_the_objects_alive_now(unfrozen):
    loaded = {"a": [1, 2]}  # a container the collector tracks, alive across the call
    assert any(o is loaded for o in gc.get_objects())
    gc_freeze.freeze_startup_objects()
    assert gc.get_freeze_count() > 0
    assert not any(o is loaded for o in gc.get_objects())  # frozen: no collection walks it
    created_after = {"b": [3]}
    assert any(o is created_after for o in gc.get_objects())
