"""Start-up objects are exempt from collection; web processes do it once the app is loaded."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import gc_freeze, gunicorn_errors, warmup

ROOT = Path(__file__).resolve().parents[2]


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


def test_gunicorn_workers_warm_up_then_freeze_once_the_app_is_loaded(monkeypatch):
    calls = []
    services = object()
    worker = SimpleNamespace(wsgi=SimpleNamespace(extensions={"batchq": services}))
    monkeypatch.setattr(gc_freeze, "freeze_startup_objects", lambda: calls.append("freeze"))
    monkeypatch.setattr(gunicorn_errors, "install", lambda: calls.append("install"))
    monkeypatch.setattr(warmup, "warm_up", lambda given: calls.append(("warm up", given)))
    monkeypatch.delenv("DB_POOL_MIN_SIZE", raising=False)  # the config file sets it
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings["post_worker_init"](worker=worker)
    # The warm-up starts once the app is loaded, and before the freeze.
    assert calls == ["install", ("warm up", services), "freeze"]
