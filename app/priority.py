"""A worker's CPU priority: below the web's wherever the two share a machine.

``WORKER_NICENESS`` is added to each pool process's niceness. That alone is not enough on
Linux with autogroup scheduling (``CONFIG_SCHED_AUTOGROUP``, on in the kernels of most
distributions, and in effect wherever a process is not in a cgroup of its own for the CPU, as
it is in a container). There the scheduler first shares the CPU fairly between *sessions*
(one autogroup per ``setsid``), and a niceness only weighs against the processes of its own
session. A process manager (honcho under ``make run``, systemd, supervisord) starts each
process in a session of its own, so a niced pool process still had its whole session's share
against the web's, and the setting did nothing (see "Design decisions" in the README).

So the worker also lowers the niceness of its session's autogroup, for its lifetime, when that
group is its own: every process in it is the worker, a process it started, or one of the
processes that started it (the ``sh -c`` of a Procfile runner, or a terminal's shell). A group
shared with anything else (a web started from the same shell) is left alone: the per-process
niceness already orders the processes inside it, and nicing it would slow the others too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MAX_NICENESS = 19
PROC = Path("/proc")


def lower_process_priority(increment: int) -> None:
    """Add ``increment`` to this process's niceness (a pool process's, at its start)."""
    if increment:
        os.nice(increment)


def lower_session_priority(increment: int, proc: Path = PROC) -> int | None:
    """Add ``increment`` to the niceness of this process's autogroup if the group is its own.

    Return the group's niceness before the change, to give back at exit, or None if nothing
    was changed (no autogroups on this system, a group shared with others, a refusal).
    """
    if not increment:
        return None
    own = _autogroup(proc / "self")
    if own is None:
        return None
    group, before = own
    strangers = _strangers_in_group(group, os.getpid(), proc)
    if strangers:
        log.info("worker CPU priority: the session's autogroup is shared (pids %s), so only"
                 " the pool processes are niced", ", ".join(map(str, strangers[:5])))
        return None
    after = min(before + increment, MAX_NICENESS)
    if not _write_niceness(proc, after):
        return None
    log.info("worker CPU priority: the session's autogroup niceness set to %d", after)
    return before


def restore_session_priority(before: int | None, proc: Path = PROC) -> None:
    """Give the autogroup back the niceness ``lower_session_priority`` found (if it changed it):
    a terminal's shell may outlive the worker in that group."""
    if before is not None:
        _write_niceness(proc, before)


def _write_niceness(proc: Path, niceness: int) -> bool:
    try:
        (proc / "self" / "autogroup").write_text(str(niceness))
        return True
    except OSError as error:  # EACCES or EAGAIN (unprivileged writes are rate-limited)
        log.warning("worker CPU priority: could not set the autogroup niceness: %s", error)
        return False


def _autogroup(process: Path) -> tuple[str, int] | None:
    """Return a process's autogroup and its niceness, from "/autogroup-85 nice 0"."""
    try:
        group, _, niceness = (process / "autogroup").read_text().split()
        return group, int(niceness)
    except (OSError, ValueError):  # no autogroups on this kernel, or the process is gone
        return None


def _strangers_in_group(group: str, pid: int, proc: Path) -> list[int]:
    """Return the pids in ``group`` that are neither ``pid``'s ancestors nor its descendants."""
    parents = _parents(proc)
    ancestors = _ancestors(pid, parents)
    strangers = []
    for member in parents:
        if member == pid or member in ancestors or pid in _ancestors(member, parents):
            continue
        found = _autogroup(proc / str(member))
        if found is not None and found[0] == group:
            strangers.append(member)
    return strangers


def _ancestors(pid: int, parents: dict[int, int]) -> set[int]:
    ancestors: set[int] = set()
    walker = parents.get(pid)
    while walker and walker not in ancestors:  # pid 0 ends the chain; a cycle cannot loop
        ancestors.add(walker)
        walker = parents.get(walker)
    return ancestors


def _parents(proc: Path) -> dict[int, int]:
    """Return every live process's parent pid, read from /proc/<pid>/stat."""
    parents = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after it.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents
