"""Resident memory of the service's processes, sampled in the background while phases run."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psutil


def tree_rss(pid: int) -> dict[int, int]:
    """Return the RSS in bytes of ``pid`` and each of its descendants, by pid."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    sizes = {}
    for process in processes:
        try:
            sizes[process.pid] = process.memory_info().rss
        except psutil.Error:
            continue
    return sizes


class MemorySampler:
    """Sample the RSS of process trees every ``interval`` seconds, keeping the peaks."""

    def __init__(self, groups: Callable[[], dict[str, list[int]]], interval: float = 0.5) -> None:
        self._groups = groups            # called each time: processes come and go
        self._interval = interval
        self.peak_bytes: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        """Take one sample now: the largest single process of each group."""
        for name, pids in self._groups().items():
            sizes = [size for pid in pids for size in tree_rss(pid).values()]
            if sizes:
                self.peak_bytes[name] = max(self.peak_bytes.get(name, 0), max(sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)


class PeakSampler(MemorySampler):
    """Sample the RSS of each of the processes ``pids()`` names, from idle (the first sample,
    taken on entering) to their peak: how much any one of them grew."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.2) -> None:
        super().__init__(lambda: {}, interval)
        self._pids = pids
        self.idle: dict[int, int] = {}
        self.peak: dict[int, int] = {}

    def __enter__(self) -> PeakSampler:
        self.sample()
        return super().__enter__()

    def sample(self) -> None:
        for pid in self._pids():
            try:
                size = psutil.Process(pid).memory_info().rss
            except psutil.Error:
                continue
            self.idle.setdefault(pid, size)
            self.peak[pid] = max(self.peak.get(pid, 0), size)

    def growth_mib(self) -> float | None:
        """The most any one process grew above its idle RSS, in MiB."""
        growth = [self.peak[pid] - self.idle[pid] for pid in self.peak]
        return mib(max(growth)) if growth else None

    def idle_mib(self) -> float | None:
        return mib(max(self.idle.values())) if self.idle else None

    def peak_mib(self) -> float | None:
        return mib(max(self.peak.values())) if self.peak else None


def worker_children_rss(worker_pid: int) -> list[int]:
    """Return the RSS of a Celery worker's pool processes (its children), in bytes."""
    sizes = tree_rss(worker_pid)
    sizes.pop(worker_pid, None)
    return list(sizes.values())


def mib(size: int | float | None) -> float | None:
    """Return bytes as MiB, rounded to one decimal."""
    return None if size is None else round(size / 2**20, 1)

