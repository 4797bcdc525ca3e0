"""The bench's POST probe: when it sends, relative to the loaders (bench/service.py)."""

from __future__ import annotations

from bench import service


class _Recorder:
    """Stands in for the probe's HTTP client and its stop event; notes each call in order."""

    def __init__(self, stop_after_waits: int) -> None:
        self.calls: list[tuple] = []
        self._waits_left = stop_after_waits

    def client(self, keys):
        return self

    def submit(self, body: bytes) -> tuple[str, float]:
        self.calls.append(("POST",))
        return "job-1", 5.0

    def send(self, method: str, path: str) -> tuple[int, bytes]:
        self.calls.append((method, path))
        return 200, b"{}"

    def close(self) -> None:
        self.calls.append(("close",))

    def wait(self, seconds: float) -> bool:
        self.calls.append(("wait", seconds))
        self._waits_left -= 1
        return self._waits_left < 0


class _Ready:
    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    def set(self) -> None:
        self._recorder.calls.append(("ready",))


def test_the_probe_starts_at_a_random_moment_of_its_first_period(monkeypatch):
    recorder = _Recorder(stop_after_waits=2)
    monkeypatch.setattr(service, "KeepAliveClient", recorder.client)
    monkeypatch.setattr(service.random, "uniform", lambda low, high: (low + high) / 3)
    samples = service._probe_posts(None, "inserts", ready=_Ready(recorder), stop=recorder,
                                   jobs=None)
    period = service.PROBE_INTERVAL
    assert recorder.calls == [
        ("ready",), ("wait", period / 3),  # not at once: the loaders' first POSTs start now
        ("POST",), ("DELETE", "/batch/job-1"), ("wait", period),
        ("POST",), ("DELETE", "/batch/job-1"), ("wait", period), ("close",)]
    assert samples == [5.0, 5.0]


def test_the_probe_posts_once_even_when_the_run_ends_during_its_first_wait(monkeypatch):
    recorder = _Recorder(stop_after_waits=0)
    monkeypatch.setattr(service, "KeepAliveClient", recorder.client)
    samples = service._probe_posts(None, "updates", ready=_Ready(recorder), stop=recorder,
                                   jobs=None)
    assert samples == [5.0]
    assert [call[0] for call in recorder.calls].count("POST") == 1
