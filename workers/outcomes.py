"""Record outcomes the operations share: an unknown customer, and what a ledger posting did."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import psycopg

from app.error_codes import CUSTOMER_NOT_FOUND, DUPLICATE_TRANSACTION_ID, INSUFFICIENT_BALANCE
from app.store import ledger
from app.store.customers import known_customers
from app.store.ledger import Entry, Posting
from workers.operations import ChunkContext, Outcome, ValidRecord

# The record field naming a source's id, for messages about a repeat.
ID_FIELDS = {"order": "orderId", "cashback": "transactionId", "redemption": "transactionId",
             "adjustment": "transactionId"}


def outcome_of(entry: Entry, posting: Posting, applied: Callable[[Posting], str], *,
               job_id: int, amount_field: str = "points",
               already_applied: Callable[[Posting], str] | None = None) -> Outcome:
    """Return the outcome of ``entry`` (of job ``job_id``): ``applied(posting)`` words a success.

    A source id applied before by another record fails this one with 9004, as Gameball's
    batch guidance says, unless ``already_applied(posting)`` is given: then a repeat is a
    success worded by it (an order sent again updates the order). The same record applied
    again (its own earlier entry) is a success: nothing changes twice.
    """
    noun, id_field = entry.source, ID_FIELDS[entry.source]
    if posting.status == "applied":
        return Outcome(entry.index, True, applied(posting), posting.details())
    earlier = posting.earlier
    if posting.status == "already_applied":
        if already_applied is not None:
            return Outcome(entry.index, True, already_applied(posting), posting.details())
        if earlier is not None and (earlier.job_id, earlier.record_index) == (job_id, entry.index):
            return Outcome(entry.index, True, f"Already applied: this {noun} was applied by "
                                              "this very record before.", posting.details())
        return Outcome.failed(entry.index, DUPLICATE_TRANSACTION_ID, (
            f"{id_field}: Already applied: this {noun} ({id_field} {entry.source_id!r}) was "
            f"applied by record {earlier.record_index} of job {earlier.job_id}; each {id_field} "
            "applies once, so this record changed nothing."))
    if posting.status == "conflict":
        return Outcome.failed(entry.index, DUPLICATE_TRANSACTION_ID, (
            f"{id_field}: Already used by another {noun} (customer {earlier.customer_id!r}, "
            f"{earlier.points} points); each {id_field} applies once, so this record changed "
            "nothing."))
    needed = -entry.points
    return Outcome.failed(entry.index, INSUFFICIENT_BALANCE, (
        f"{amount_field}: Insufficient balance: {needed} points needed, "
        f"{posting.balance.available} available."))


def unknown_customer_outcome(record: ValidRecord) -> Outcome:
    """Fail a record naming a customer the tenant does not have (7000)."""
    return Outcome.failed(record.index, CUSTOMER_NOT_FOUND, (
        f"customerId: No customer {record.data['customerId']!r}; create it first "
        "(POST /batch/customers)."))


def unknown_customer_outcomes(conn: psycopg.Connection, context: ChunkContext,
                              records: Sequence[ValidRecord]) -> dict[int, Outcome]:
    """Return, by index, the failure of each record naming a customer the tenant lacks."""
    known = known_customers(conn, context.tenant_id, (r.data["customerId"] for r in records))
    return {r.index: unknown_customer_outcome(r) for r in records
            if r.data["customerId"] not in known}


def post_records(conn: psycopg.Connection, context: ChunkContext,
                 records: Sequence[ValidRecord], entry_of: Callable[[ValidRecord], Entry],
                 applied: Callable[[ValidRecord, Posting], str], *,
                 refused: Mapping[int, Outcome],
                 amount_field: Callable[[ValidRecord], str] = lambda r: "points",
                 already_applied: Callable[[ValidRecord, Posting], str] | None = None
                 ) -> list[Outcome]:
    """Post one ledger entry per record, except the ``refused`` ones (their outcome by index).

    ``applied`` and ``already_applied`` word a record's success as ``outcome_of`` does.
    """
    entries = {r.index: entry_of(r) for r in records if r.index not in refused}
    postings = ledger.post(conn, context.tenant_id, context.job_id, list(entries.values()))
    return [refused[r.index] if r.index in refused else
            outcome_of(entries[r.index], postings[r.index], partial(applied, r),
                       job_id=context.job_id, amount_field=amount_field(r),
                       already_applied=(partial(already_applied, r) if already_applied
                                        else None))
            for r in records]
