"""Importing a file of moderate size: read it streaming, send requests of up to 1,000 records
with bounded concurrency, follow the jobs to their end, and write every failed record to a
file. A larger file goes as one bulk job instead (``batchq_cli.uploader``).

Three kinds of work overlap: the calling thread reads and batches records; a small pool
uploads batches (at most ``concurrency`` at once); a tracker thread polls the job listing,
moves the processing bar and, as each job ends, fetches its failed records. Memory is
bounded: a batch's records are kept only until its job has ended (to write failed ones with
their data), and reading waits while ``max_pending_jobs`` jobs are unfinished.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from batchq_cli.client import FINAL_STATUSES, ApiError, BatchClient
from batchq_cli.readers import CountingReader, Item, UnreadableFile, read_items

# Answers after which going on is pointless: wrong keys, no such operation.
FATAL_STATUSES = (401, 403, 404)


@dataclass
class Batch:
    """One request's worth of records, and the job it became."""

    number: int
    items: list[Item]
    span: int                 # bytes of the file it covers, for the upload bar
    job_id: str | None = None
    created_at: str | None = None
    counts: tuple[int, int] = (0, 0)


@dataclass
class Summary:
    """What an import did."""

    records: int = 0          # records in the file, readable or not
    submitted: int = 0        # records the service accepted into jobs
    applied: int = 0
    failed: int = 0           # unreadable, refused, failed by the service, or not applied
    jobs: int = 0
    seconds: float = 0.0
    failed_path: Path | None = None
    aborted: str | None = None


class FailedRecords:
    """The ``FILE.failed.ndjson`` writer: one line per failed record, opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: io.BufferedWriter | None = None
        self._lock = threading.Lock()
        path.unlink(missing_ok=True)  # a previous run's list would mislead

    def write(self, item: Item, error: str) -> None:
        line = orjson.dumps({"line": item.line, "error": error, "record": item.record})
        with self._lock:
            if self._file is None:
                self._file = self.path.open("wb")
            self._file.write(line + b"\n")
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()


@dataclass
class Progress:
    """Callbacks the importer reports progress to (the CLI draws bars with them)."""

    uploaded: Callable[[int], None] = lambda bytes_done: None
    processed: Callable[[int, int], None] = lambda done, total: None
    note: Callable[[str], None] = lambda message: None


@dataclass
class Importer:
    """One import run of ``path`` as ``operation``."""

    client: BatchClient
    operation: str
    path: Path
    fmt: str
    batch_size: int = 1000
    concurrency: int = 4
    max_pending_jobs: int = 50
    poll_interval: float = 0.5
    progress: Progress = field(default_factory=Progress)
    schema: Any = None  # the operation's record schema, which types CSV cells

    def __post_init__(self) -> None:
        self.run_id = uuid.uuid4().hex
        self.summary = Summary(failed_path=self.path.with_name(self.path.name + ".failed.ndjson"))
        self.failed = FailedRecords(self.summary.failed_path)
        self._lock = threading.Lock()
        self._unfinished: dict[str, Batch] = {}
        self._done_counts = 0           # finished + errors of ended jobs
        self._uploaded_bytes = 0
        self._uploads_in_flight = threading.BoundedSemaphore(self.concurrency)
        self._pending_jobs = threading.Semaphore(self.max_pending_jobs)
        self._reading_done = threading.Event()
        self._fatal: str | None = None
        self._floor: str | None = None  # createdAfter for the listing: before our oldest job

    def run(self) -> Summary:
        """Import the file; return the summary (also when the run was cut short)."""
        started = time.monotonic()
        tracker = threading.Thread(target=self._track, name="batchq-tracker", daemon=True)
        tracker.start()
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="batchq-upload") as pool:
                self._read_and_send(pool)
            self._reading_done.set()
            tracker.join()
        finally:
            self._reading_done.set()
            self.failed.close()
        self.summary.failed = self.failed.count
        self.summary.aborted = self.summary.aborted or self._fatal
        self.summary.seconds = time.monotonic() - started
        if not self.failed.count:
            self.summary.failed_path = None
        return self.summary

    # Reading and uploading.

    def _read_and_send(self, pool: ThreadPoolExecutor) -> None:
        with self.path.open("rb") as raw:
            counting = CountingReader(raw)
            items: list[Item] = []
            number, mark = 0, 0

            def send() -> None:
                nonlocal items, number, mark
                number += 1
                span, mark = counting.bytes_read - mark, counting.bytes_read
                # Both waits bound memory: uploads in flight, and jobs whose records are kept.
                self._pending_jobs.acquire()
                self._uploads_in_flight.acquire()
                pool.submit(self._upload, Batch(number, items, span))
                items = []

            try:
                for item in read_items(io.BufferedReader(counting), self.fmt, self.schema):
                    self.summary.records += 1
                    if item.error is not None:
                        self.failed.write(item, item.error)
                    else:
                        items.append(item)
                    if len(items) >= self.batch_size:
                        send()
                    if self._fatal:
                        return
            except UnreadableFile as error:
                self.summary.aborted = f"{self.path.name}: {error}"
            if items:
                send()
            self._advance_upload(counting.bytes_read - mark)

    def _upload(self, batch: Batch) -> None:
        records = [item.record for item in batch.items]
        try:
            job_id = self.client.submit(self.operation, records,
                                        idempotency_key=f"{self.run_id}-{batch.number}")
        except ApiError as error:
            if error.status in FATAL_STATUSES:
                self._fatal = self._fatal or str(error)
            self._fail_all(batch, f"record: Not submitted: {error}")
            self._pending_jobs.release()
        except Exception as error:  # noqa: BLE001 - a batch lost to a bug still reports its records
            self._fail_all(batch, f"record: Not submitted: {type(error).__name__}: {error}")
            self._pending_jobs.release()
        else:
            batch.job_id = job_id
            with self._lock:
                self._unfinished[job_id] = batch
                self.summary.submitted += len(records)
                self.summary.jobs += 1
        finally:
            self._advance_upload(batch.span)
            self._uploads_in_flight.release()

    def _advance_upload(self, span: int) -> None:
        with self._lock:
            self._uploaded_bytes += span
            done = self._uploaded_bytes
        self.progress.uploaded(done)

    def _fail_all(self, batch: Batch, error: str) -> None:
        for item in batch.items:
            self.failed.write(item, error)

    # Tracking the jobs.

    def _track(self) -> None:
        while True:
            finished_reading = self._reading_done.is_set()
            with self._lock:
                unfinished = dict(self._unfinished)
            if unfinished:
                try:
                    self._poll(unfinished)
                except Exception as error:  # noqa: BLE001 - the tracker must outlive a bad poll
                    self.progress.note(f"following the jobs failed, will retry: {error}")
            elif finished_reading:
                return
            self._report_processing()
            time.sleep(self.poll_interval)

    def _poll(self, unfinished: dict[str, Batch]) -> None:
        """Read the listing back to our oldest unfinished job; end the jobs that ended."""
        if self._floor is None:
            first = next(iter(unfinished.values()))
            first.created_at = self.client.job(first.job_id)["createdAt"]
            self._floor = _just_before(first.created_at)
        seen: dict[str, dict] = {}
        for body in self.client.jobs_since(self._floor):
            if body["jobId"] in unfinished:
                seen[body["jobId"]] = body
                if len(seen) == len(unfinished):
                    break
        # A job created before the floor moved past it (its upload answered late): ask it.
        for job_id in unfinished.keys() - seen.keys():
            seen[job_id] = self.client.job(job_id)
        for job_id, body in seen.items():
            batch = unfinished[job_id]
            batch.created_at = body["createdAt"]
            batch.counts = (body["finishedCount"], body["errorCount"])
            if body["status"] in FINAL_STATUSES:
                self._end(batch, body)
        with self._lock:
            still = [b.created_at for b in self._unfinished.values() if b.created_at]
        if still:
            self._floor = _just_before(min(still))

    def _end(self, batch: Batch, body: dict) -> None:
        """Write the ended job's failed records (and those it never applied); let it go."""
        # Everything is fetched before anything is written: a fetch that fails is simply
        # tried again at the next poll, without writing a record twice.
        failed = list(self.client.outcomes(batch.job_id, "failed")) if body["errorCount"] else []
        unapplied: list[Item] = []
        if body["status"] != "completed":
            accounted = {o["index"] for o in self.client.outcomes(batch.job_id, "successful")}
            accounted.update(o["index"] for o in failed)
            unapplied = [item for index, item in enumerate(batch.items) if index not in accounted]
        for outcome in failed:
            self.failed.write(batch.items[outcome["index"]], outcome["error"])
        reason = f"record: Not applied: the job was {body['status']}"
        if body.get("failureMessage"):
            reason += f" ({body['failureMessage']})"
        for item in unapplied:
            self.failed.write(item, reason)
        with self._lock:
            del self._unfinished[batch.job_id]
            self.summary.applied += body["finishedCount"]
            self._done_counts += len(batch.items)
        self._pending_jobs.release()

    def _report_processing(self) -> None:
        with self._lock:
            running = sum(sum(b.counts) for b in self._unfinished.values())
            done, total = self._done_counts + running, self.summary.submitted
        self.progress.processed(done, total)


def _just_before(iso: str) -> str:
    """Return the millisecond before an ISO 8601 ``...Z`` timestamp, in the same form."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) - timedelta(milliseconds=1)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def summary_line(summary: Summary, name: str) -> str:
    """Return the one-line summary of an import."""
    return (f"{name}: {summary.records:,} records, {summary.submitted:,} submitted in "
            f"{summary.jobs:,} jobs, {summary.applied:,} applied, {summary.failed:,} failed "
            f"in {summary.seconds:.1f}s")


def as_json(summary: Summary) -> dict[str, Any]:
    """Return the summary as a JSON-ready dict."""
    return {"records": summary.records, "submitted": summary.submitted, "jobs": summary.jobs,
            "applied": summary.applied, "failed": summary.failed,
            "seconds": round(summary.seconds, 3),
            "failedFile": str(summary.failed_path) if summary.failed_path else None,
            "aborted": summary.aborted}
