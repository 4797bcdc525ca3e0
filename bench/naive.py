"""The naive peer: one Celery task per record, each validating and upserting one row.

This is the design most tutorials show. It gets the same schema, the same merge of
profiles and the same broker as the service, and Celery's defaults; the benchmark sends
the tasks itself (no HTTP in front), which only flatters it. Its worker is started as
``celery -A bench.naive worker``, with DATABASE_URL and REDIS_URL in the environment.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import psycopg
from celery import Celery
from psycopg.types.json import Jsonb

from bench.results import Run
from devtools.service import LiveService, process_environment, wait_until
from schemas.customers import customer_schema
from workers.operations.customers import MERGE_ON_CONFLICT

QUEUE = "naive"
UPSERT_ONE = ("INSERT INTO customers AS c (tenant_id, customer_id, profile) VALUES (%s, %s, %s) "
              + MERGE_ON_CONFLICT)

app = Celery("naive", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(task_default_queue=QUEUE, task_ignore_result=True,
                broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
_connection: psycopg.Connection | None = None


def _dumps(value) -> str:
    return orjson.dumps(value).decode()  # dates as ISO 8601, like the service


@app.task(name="naive.upsert_customer")
def upsert_customer(tenant_id: int, record: dict) -> None:
    """Validate one record and upsert it, in a transaction of its own."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"])
    data = customer_schema.load(record)
    customer_id = data.pop("customerId")
    with _connection.transaction():
        _connection.execute(UPSERT_ONE, (tenant_id, customer_id, Jsonb(data, dumps=_dumps)))


def run_naive(database_url: str, redis_url: str, tenant_id: int, records: list[dict],
              processes: int, log_path: Path) -> Run:
    """Start a naive worker, send one task per record, wait until all rows exist."""
    # Started and stopped as the service's processes are; the log is naive-0.log beside log_path.
    service = LiveService(env=process_environment(database_url, redis_url),
                          log_dir=log_path.parent)
    worker = service.launch(log_path.stem, f"celery -A bench.naive worker --loglevel=WARNING"
                                           f" --concurrency={processes} -Q {QUEUE}")
    worker_log = worker.log_file.name  # type: ignore[attr-defined]
    sender = Celery("naive-sender", broker=redis_url)
    try:
        wait_until(lambda: sender.control.ping(timeout=0.5), timeout=60, interval=0.2,
                   what=f"the naive worker (see {worker_log})")
        with psycopg.connect(database_url, autocommit=True) as conn:
            started = time.time()
            for record in records:
                sender.send_task("naive.upsert_customer", args=[tenant_id, record], queue=QUEUE)
            count = "SELECT count(*) FROM customers WHERE tenant_id = %s"
            def all_rows():
                if worker.poll() is not None:
                    raise RuntimeError(f"the naive worker exited; see {worker_log}")
                return conn.execute(count, (tenant_id,)).fetchone()[0] >= len(records)
            # Generous: even 20 records a second would make it.
            wait_until(all_rows, timeout=60 + len(records) / 20, interval=0.1,
                       what=f"the naive worker's rows (see {worker_log})")
            seconds = time.time() - started
    finally:
        service.stop_all()
        sender.close()
    return Run(name="naive", records=len(records), seconds=seconds, started=started,
               extra={"processes": processes})
