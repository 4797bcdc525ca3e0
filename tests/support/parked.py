"""A chunk parked inside its transaction, for the fault tests: the test holds a row lock that
one record of the job needs, so the worker applying that record's chunk waits on it, mid-chunk,
until the test lets go. And the check that records were stored once."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from tests.support.client import ApiClient
from tests.support.factories import customer, customers
from tests.support.service import wait_until


@dataclass(frozen=True)
class ParkedChunk:
    """The job, its records, and the session (of a worker) waiting inside the parked chunk."""

    job_id: str
    records: list[dict]
    application_name: str  # batchq-<pid of the worker process>
    client_address: str | None  # where the worker connects from
    release: Callable[[], None]  # lets the chunk go on

    @property
    def pid(self) -> int:
        return int(self.application_name.rsplit("-", 1)[1])


@contextmanager
def parked_chunk(database_url: str, api: ApiClient, db: psycopg.Connection, *, index: int,
                 count: int, timeout: float = 30) -> Iterator[ParkedChunk]:
    """Submit ``count`` records whose record ``index`` waits on a row lock; yield the parked
    chunk. Leaving the context releases the lock (if the server is still there)."""
    blocker = customer(f"blocker-{os.urandom(3).hex()}")
    api.wait(api.submit([blocker]))
    records = customers(count)
    records[index] = blocker
    holder = psycopg.connect(database_url)
    try:
        holder.execute("SELECT 1 FROM customers WHERE tenant_id = %s AND customer_id = %s"
                       " FOR UPDATE", (api.tenant_id, blocker["customerId"]))
        job_id = api.submit(records)
        name, address = wait_until(lambda: db.execute(
            "SELECT application_name, host(client_addr) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE '%%INSERT INTO customers%%'"
            ).fetchone(), timeout=timeout, what="a worker to wait inside the parked chunk")
        yield ParkedChunk(job_id, records, name, address, holder.commit)
    finally:
        try:
            holder.commit()
            holder.close()
        except psycopg.Error:
            pass  # the server went away meanwhile, and the lock with it


def stored_once(db: psycopg.Connection, tenant_id: int, records: list[dict]) -> tuple[int, int]:
    """Return (records stored, records updated after their creation) among ``records``."""
    return db.execute(
        "SELECT count(*), count(*) FILTER (WHERE updated_at <> created_at) FROM customers"
        " WHERE tenant_id = %s AND customer_id = ANY(%s)",
        (tenant_id, [r["customerId"] for r in records])).fetchone()
