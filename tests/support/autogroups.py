"""Reading a process's autogroup (Linux's scheduling group per session), for the priority tests."""

from __future__ import annotations

from pathlib import Path

HAS_AUTOGROUPS = Path("/proc/self/autogroup").exists()


def autogroup(pid: int | str) -> tuple[str, int]:
    """Return the autogroup of process ``pid`` ("self" for this one) and its niceness."""
    group, _, niceness = Path(f"/proc/{pid}/autogroup").read_text().split()
    return group, int(niceness)
