"""The live counters' guarantees, on fakeredis: a chunk counts once; rebuilds never double."""

from __future__ import annotations

import fakeredis
import pytest

from app.messaging.progress import ProgressStore


@pytest.fixture
def store() -> ProgressStore:
    return ProgressStore(fakeredis.FakeRedis(), ttl_seconds=60)


def test_missing_counters_ask_for_a_rebuild(store):
    assert store.counts("j") is None
    assert store.add_chunk("j", 0, 10, 1) == -1
    assert store.counts("j") is None


def test_a_chunk_counts_once(store):
    store.rebuild("j", [])
    assert store.add_chunk("j", 0, 10, 1) == 1
    assert store.add_chunk("j", 0, 10, 1) == 0
    assert store.add_chunk("j", 1, 5, 0) == 1
    assert store.counts("j") == (15, 1)


def test_rebuild_writes_only_once_and_marks_its_chunks(store):
    assert store.rebuild("j", [(0, 10, 0), (1, 8, 2)])
    assert not store.rebuild("j", [(0, 10, 0)])  # a slower, staler rebuild loses
    assert store.add_chunk("j", 1, 8, 2) == 0  # already in the rebuilt figures
    assert store.add_chunk("j", 2, 3, 0) == 1
    assert store.counts("j") == (21, 2)


def test_forget_drops_counters(store):
    store.rebuild("j", [(0, 1, 0)])
    store.forget("j")
    assert store.counts("j") is None
