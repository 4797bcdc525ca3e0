"""The points ledger: every change of a balance is one appended row, applied exactly once.

``post`` applies a chunk's entries in the chunk's transaction, set-based:

1. lock the balance rows of every customer involved, in sorted order, in one statement
   (``INSERT .. ORDER BY customer_id .. ON CONFLICT DO UPDATE``): all writers of balances
   lock in the same order, so they queue instead of deadlocking, and nothing else can
   change these balances until we commit;
2. read which entries' (source, sourceId) are in the ledger already;
3. walk the entries in record order against the locked balances: a repeat is "already
   applied" (or a conflict if it differs), a debit the balance cannot cover fails;
4. append the accepted entries, and add their sums to the balances.

Step 4's ``ON CONFLICT DO NOTHING`` is the backstop of exactly-once: a concurrent chunk
may have appended the same sourceId for *another* customer (whose balance we do not
lock) between steps 2 and 4. Then the savepoint is rolled back and the walk redone, now
seeing that row. The balance CHECK (available >= 0) is the backstop of "never negative".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

import psycopg

log = logging.getLogger(__name__)

Status = Literal["applied", "already_applied", "conflict", "insufficient"]
# What wrote a row; its source id is the orderId or transactionId of the record.
SOURCES = ("order", "cashback", "redemption", "adjustment")
_MAX_WALKS = 5


@dataclass(frozen=True)
class Entry:
    """A change a record asks for. ``must_match``: a repeat must ask for the same points.

    ``amount``: the money the points were for, where the record gave money (kept with the
    row, so that an order's transactions can be read back with it).
    """

    index: int
    customer_id: str
    source: str
    source_id: str
    points: int
    must_match: bool = True
    reason: str | None = None
    occurred_at: datetime | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Balance:
    """A customer's points."""

    available: int
    pending: int = 0

    def as_json(self) -> dict[str, int]:
        return {"available": self.available, "pending": self.pending}


@dataclass(frozen=True)
class Earlier:
    """The entry that first applied a sourceId."""

    customer_id: str
    points: int
    job_id: int
    record_index: int


@dataclass(frozen=True)
class Posting:
    """What became of an entry, and the customer's balance right after it."""

    status: Status
    points: int
    balance: Balance
    earlier: Earlier | None = None

    def details(self) -> dict:
        """Return the fields a successful record's entry carries."""
        details = {"points": self.points, "balance": self.balance.as_json()}
        if self.status == "already_applied":
            details["alreadyApplied"] = True
        return details


@dataclass(frozen=True)
class Row:
    """A row of the ledger as read back: who, what for, how many points, when."""

    customer_id: str
    source: str
    source_id: str
    points: int
    amount: Decimal | None
    reason: str | None
    occurred_at: datetime | None
    created_at: datetime


class _Raced(Exception):
    """A concurrent chunk appended one of our sourceIds after we read the ledger."""


def post(conn: psycopg.Connection, tenant_id: int, job_id: int, entries: list[Entry]
         ) -> dict[int, Posting]:
    """Apply ``entries`` exactly once each; return each entry's posting by record index."""
    if not entries:
        return {}
    for walk in range(1, _MAX_WALKS + 1):
        try:
            with conn.transaction():
                return _post_once(conn, tenant_id, job_id, entries)
        except _Raced:
            log.info("ledger walk %d of job %s raced a concurrent chunk; walking again",
                     walk, job_id)
    raise psycopg.errors.SerializationFailure(  # transient: the engine retries the chunk
        f"the ledger kept changing under job {job_id}'s chunk")


def balances(conn: psycopg.Connection, tenant_id: int, customer_ids: list[str]
             ) -> dict[str, Balance]:
    """Return the customers' balances as committed (none yet: zero), without locking."""
    rows = conn.execute("SELECT customer_id, available, pending FROM points_balances"
                        " WHERE tenant_id = %s AND customer_id = ANY(%s)",
                        (tenant_id, list(set(customer_ids)))).fetchall()
    found = {row[0]: Balance(row[1], row[2]) for row in rows}
    return {c: found.get(c, Balance(0)) for c in customer_ids}


def rows_by_source_id(conn: psycopg.Connection, tenant_id: int, source_ids: list[str]
                      ) -> dict[str, list[Row]]:
    """Return the tenant's ledger rows whose source id is one of ``source_ids``, by source id,
    each list in the order the rows were appended.

    An adjustment sent without a transactionId is keyed ``<jobId>:<record index>`` by the
    service, an id no client gave: it is never returned for one.
    """
    rows = conn.execute(
        "SELECT customer_id, source, source_id, points, amount, reason, occurred_at, created_at"
        " FROM points_ledger WHERE tenant_id = %s AND source = ANY(%s) AND source_id = ANY(%s)"
        " AND NOT (source = 'adjustment' AND source_id = job_id || ':' || record_index)"
        " ORDER BY id",
        (tenant_id, list(SOURCES), sorted(set(source_ids))),
    ).fetchall()
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row[2], []).append(Row(*row))
    return found


def _post_once(conn: psycopg.Connection, tenant_id: int, job_id: int, entries: list[Entry]
               ) -> dict[int, Posting]:
    held = _lock_balances(conn, tenant_id, {e.customer_id for e in entries})
    earlier = _in_ledger(conn, tenant_id, entries)
    postings: dict[int, Posting] = {}
    accepted: list[Entry] = []
    for entry in sorted(entries, key=lambda e: e.index):
        key = (entry.source, entry.source_id)
        balance = held[entry.customer_id]
        first = earlier.get(key)
        if first is not None:
            same = first.customer_id == entry.customer_id and (
                first.points == entry.points or not entry.must_match)
            postings[entry.index] = Posting("already_applied" if same else "conflict", 0,
                                            balance, first)
        elif balance.available + entry.points < 0:
            postings[entry.index] = Posting("insufficient", 0, balance)
        else:
            held[entry.customer_id] = Balance(balance.available + entry.points, balance.pending)
            earlier[key] = Earlier(entry.customer_id, entry.points, job_id, entry.index)
            accepted.append(entry)
            postings[entry.index] = Posting("applied", entry.points, held[entry.customer_id])
    _append(conn, tenant_id, job_id, accepted)
    _add_to_balances(conn, tenant_id, accepted)
    return postings


def _lock_balances(conn: psycopg.Connection, tenant_id: int, customer_ids: set[str]
                   ) -> dict[str, Balance]:
    """Lock (creating if needed) the customers' balance rows in key order; return them."""
    rows = conn.execute(
        "INSERT INTO points_balances AS b (tenant_id, customer_id)"
        " SELECT %s, c FROM unnest(%s::text[]) AS c ORDER BY c"
        " ON CONFLICT (tenant_id, customer_id) DO UPDATE SET updated_at = b.updated_at"
        " RETURNING customer_id, available, pending",
        (tenant_id, sorted(customer_ids)),
    ).fetchall()
    return {row[0]: Balance(row[1], row[2]) for row in rows}


def _in_ledger(conn: psycopg.Connection, tenant_id: int, entries: list[Entry]
               ) -> dict[tuple[str, str], Earlier]:
    rows = conn.execute(
        "SELECT l.source, l.source_id, l.customer_id, l.points, l.job_id, l.record_index"
        " FROM points_ledger l JOIN unnest(%s::text[], %s::text[]) AS k (source, source_id)"
        " ON l.source = k.source AND l.source_id = k.source_id WHERE l.tenant_id = %s",
        ([e.source for e in entries], [e.source_id for e in entries], tenant_id),
    ).fetchall()
    return {(row[0], row[1]): Earlier(*row[2:]) for row in rows}


def _append(conn: psycopg.Connection, tenant_id: int, job_id: int, accepted: list[Entry]) -> None:
    if not accepted:
        return
    appended = conn.execute(
        "INSERT INTO points_ledger (tenant_id, customer_id, source, source_id, points, reason,"
        " occurred_at, amount, job_id, record_index)"
        " SELECT %s, e.customer_id, e.source, e.source_id, e.points, e.reason, e.occurred_at,"
        " e.amount, %s, e.record_index"
        " FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[],"
        " %s::timestamptz[], %s::numeric[], %s::int[])"
        " AS e (customer_id, source, source_id, points, reason, occurred_at, amount, record_index)"
        " ORDER BY e.record_index"
        " ON CONFLICT (tenant_id, source, source_id) DO NOTHING RETURNING 1",
        (tenant_id, job_id, [e.customer_id for e in accepted], [e.source for e in accepted],
         [e.source_id for e in accepted], [e.points for e in accepted],
         [e.reason for e in accepted], [e.occurred_at for e in accepted],
         [e.amount for e in accepted], [e.index for e in accepted]),
    ).fetchall()
    if len(appended) != len(accepted):
        raise _Raced()


def _add_to_balances(conn: psycopg.Connection, tenant_id: int, accepted: list[Entry]) -> None:
    sums: dict[str, int] = {}
    for entry in accepted:
        sums[entry.customer_id] = sums.get(entry.customer_id, 0) + entry.points
    if not sums:
        return
    conn.execute(
        "UPDATE points_balances b SET available = b.available + d.points, updated_at = now()"
        " FROM unnest(%s::text[], %s::bigint[]) AS d (customer_id, points)"
        " WHERE b.tenant_id = %s AND b.customer_id = d.customer_id",
        (list(sums), list(sums.values()), tenant_id),
    )
