"""The benchmark's options: a BENCH_* variable sets the default, the command line wins."""

from __future__ import annotations

import pytest

from bench.settings import parse


def test_rounds_come_from_the_environment_unless_given(monkeypatch):
    monkeypatch.delenv("BENCH_ROUNDS", raising=False)
    assert parse([]).rounds == 3
    monkeypatch.setenv("BENCH_ROUNDS", "5")
    assert parse([]).rounds == 5
    assert parse(["--rounds", "1"]).rounds == 1


def test_no_round_at_all_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(["--rounds", "0"])
    assert stopped.value.code == 2
    assert "need at least one round" in capsys.readouterr().err
