"""What the operators' dashboard shows: every tenant's jobs with their progress, and the service.

The jobs listed are every unfinished one (oldest first, they are what an operator acts on)
and the most recent ones of any status (``app.store.overview``), each operation named by its
title; the service's figures are ``app.domain.cluster``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from app.domain import cluster
from app.services import Services
from app.store.overview import BoardRow, board_rows


@dataclass(frozen=True)
class Board:
    """Everything one refresh of the dashboard shows."""

    jobs: list[BoardRow]
    service: cluster.Snapshot
    at: datetime


def board(services: Services) -> Board:
    """Read the dashboard's figures now."""
    with services.db.transaction() as conn:
        shown = board_rows(conn)
    return Board(shown, cluster.snapshot(services), datetime.now(timezone.utc))


def brief(seconds: float) -> str:
    """Say a duration briefly: "42 s", "3 min", "5 h", "2 d"."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def ago(moment: datetime | None, now: datetime) -> str:
    """Say how long ago ``moment`` was, briefly ("" for never)."""
    return "" if moment is None else brief((now - moment).total_seconds())
