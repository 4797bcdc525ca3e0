"""CPU time spent per process group during a phase: where the machine's two cores went.

Groups are process trees (web, worker), this process (the bench: the limit's writer or
the HTTP clients, plus the observer processes' own figures), the private redis-server,
and the PostgreSQL backends serving the bench's database. A backend that both starts and
ends inside a phase is missed; pools keep theirs open, so that is rare.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import psutil
import psycopg


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class CpuMeter:
    """Snapshots of CPU seconds by (group, pid); the difference of two is a phase's cost."""

    def __init__(self, database_url: str, trees: Callable[[], dict[str, int]] = dict) -> None:
        self.database_url = database_url
        self.trees = trees  # group name -> root pid, asked at each snapshot

    def snapshot(self) -> dict[tuple[str, int], float]:
        """Return the CPU seconds used so far by each process of each group."""
        processes: list[tuple[str, psutil.Process]] = []
        me = psutil.Process()
        processes.append(("bench", me))
        processes += [("redis", child) for child in me.children()
                      if child.name().startswith("redis-server")]
        for group, pid in self.trees().items():
            processes += [(group, process) for process in _tree(pid)]
        processes += [("postgres", psutil.Process(pid)) for pid in self._backends()]
        seconds = {}
        for group, process in processes:
            try:
                seconds[(group, process.pid)] = _cpu_seconds(process)
            except psutil.Error:
                continue
        return seconds

    def per_thousand(self, before: dict, records: int, *,
                     also: dict[str, float] | None = None) -> dict[str, float]:
        """Return CPU milliseconds per 1,000 records by group, since ``before``.

        ``also`` adds CPU seconds of processes that ended before this snapshot, by group.
        """
        used: dict[str, float] = dict(also or {})
        for key, seconds in self.snapshot().items():
            used[key[0]] = used.get(key[0], 0.0) + seconds - before.get(key, 0.0)
        return {group: round(total * 1000 / records * 1000, 1) for group, total in sorted(used.items())}

    def _backends(self) -> list[int]:
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname ="
                                    " current_database() AND pid <> pg_backend_pid()").fetchall()
        except psycopg.Error:
            return []
        # Another machine's server cannot be measured from here.
        return [pid for (pid,) in rows if psutil.pid_exists(pid)] if _local(self.database_url) else []


def _local(url: str) -> bool:
    host = psycopg.conninfo.conninfo_to_dict(url).get("host") or "localhost"
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("/") or host == os.uname().nodename
