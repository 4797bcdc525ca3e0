"""What a web process does as gunicorn starts it: JSON refusals always; with WARM_START, its
connections opened and its start-up objects frozen."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest
from gunicorn import util

from app.runtime import gunicorn_hooks
from app.web import gunicorn_errors


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


@pytest.mark.parametrize("warm_start", ["true", "false"])
def test_a_web_process_answers_refusals_as_json_and_warms_up_only_if_told(
        make_services, unfrozen, monkeypatch, warm_start):
    monkeypatch.setattr(util, "write_error", util.write_error)  # given back after the test
    services = make_services(WARM_START=warm_start)
    worker = SimpleNamespace(wsgi=SimpleNamespace(extensions={"batchq": services}))
    gunicorn_hooks.post_worker_init(worker)
    assert util.write_error is gunicorn_errors.write_json_error
    # Frozen start-up objects, and the pool's connections opening, with WARM_START only.
    assert (gc.get_freeze_count() > 0) == (warm_start == "true")
    assert (services.db._pool is not None) == (warm_start == "true")
