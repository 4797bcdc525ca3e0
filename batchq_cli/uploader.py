"""Importing a large file as one bulk job: a multi-part upload, followed to its end.

The file is cut into parts (``batchq_cli.parts``), each sent as it is read, one at a time;
the service answers each part's SHA-256, which must be the one the CLI computed. A part that
fails to arrive is sent again (the service replaces a part of the same number); an upload
that cannot go on is left open, and ``--resume JOBID`` later sends only the parts the service
does not hold with the same SHA-256. Once every part is in, the upload is closed and the job
followed until it ends; then its failed records (and, if it was stopped or failed, those it
never applied) are written next to the input, each with its line in the file and the record
itself, read again from the file in step with the service's NDJSON results (both in index
order: nothing is held in memory).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from batchq_cli.client import FINAL_STATUSES, ApiError, BatchClient
from batchq_cli.importer import Progress
from batchq_cli.parts import Part, PartFiles
from batchq_cli.readers import Item, read_items

# A part refused because another request of ours is still storing it (a timed-out attempt
# the service has not seen end yet) is sent again after this many seconds, a few times.
BUSY_WAIT_SECONDS = 1.0
BUSY_ATTEMPTS = 10


class UploadStopped(Exception):
    """The upload cannot go on; it can be resumed with ``--resume``."""


@dataclass
class UploadSummary:
    """What a multi-part import did."""

    job_id: int | None = None
    status: str | None = None
    records: int = 0
    applied: int = 0
    failed: int = 0
    unprocessed: int = 0
    parts_sent: int = 0
    parts_kept: int = 0
    seconds: float = 0.0
    failed_path: Path | None = None
    unprocessed_path: Path | None = None
    aborted: str | None = None
    failure_message: str | None = None


@dataclass
class Uploader:
    """One multi-part import of ``path`` as ``operation`` (or the resumption of one)."""

    client: BatchClient
    operation: str
    path: Path
    fmt: str
    part_size: int
    schema: Any = None
    poll_interval: float = 0.5
    progress: Progress = field(default_factory=Progress)

    def run(self, resume: int | None = None) -> UploadSummary:
        """Upload, close, follow the job, write its failed and unprocessed records."""
        started = time.monotonic()
        summary = UploadSummary(job_id=resume)
        try:
            self._upload(summary)
            body = self._follow(summary.job_id)
            summary.status = body["status"]
            summary.records = body["totalCount"]
            summary.applied = body["finishedCount"]
            summary.failure_message = body.get("failureMessage")
            self._write_results(summary, body)
        except UploadStopped as stopped:
            summary.aborted = str(stopped)
        except (ApiError, KeyboardInterrupt) as error:
            what = str(error) if isinstance(error, ApiError) else "interrupted"
            resume = f"; resume with --resume {summary.job_id}" if summary.job_id else ""
            summary.aborted = what + resume
        summary.seconds = time.monotonic() - started
        return summary

    def _upload(self, summary: UploadSummary) -> None:
        """Send the parts the service lacks, then close the upload."""
        held: dict[int, str] = {}
        if summary.job_id is None:
            summary.job_id = self.client.open_upload(self.operation, f"{uuid.uuid4().hex}-open")
        else:
            listing = self.client.parts(summary.job_id)
            if listing["status"] != "open":
                return  # closed before: only its processing is left to follow
            held = {part["part"]: part["sha256"] for part in listing["parts"]}
        done = 0
        with PartFiles(self.path, self.fmt, self.part_size) as parts:
            local = 0
            for part in parts:
                local = part.number
                if held.get(part.number) == part.sha256:
                    summary.parts_kept += 1
                else:
                    self._send(summary.job_id, part, done)
                    summary.parts_sent += 1
                done += part.input_bytes
                self.progress.uploaded(done)
        extra = sorted(number for number in held if number > local)
        if extra:
            raise UploadStopped(f"upload {summary.job_id} holds part {extra[0]}, which this "
                                f"file cut into {local} parts has not: was it made with "
                                "another --part-size?")
        self.client.close_upload(summary.job_id)

    def _send(self, job_id: int, part: Part, done_before: int) -> None:
        """Send one part, checking that the service got the bytes that were sent."""
        for attempt in range(BUSY_ATTEMPTS):
            try:
                stored = self.client.put_part(job_id, part.number,
                                              lambda: self._counted(part, done_before),
                                              part.content_type)
                break
            except ApiError as error:
                if error.status == 409 and "being stored" in str(error) \
                        and attempt < BUSY_ATTEMPTS - 1:
                    time.sleep(BUSY_WAIT_SECONDS)
                    continue
                raise UploadStopped(f"part {part.number}: {error}; resume with --resume "
                                    f"{job_id}") from None
        if stored["sha256"] != part.sha256:
            raise UploadStopped(f"part {part.number} arrived other than it was sent (SHA-256 "
                                f"{stored['sha256']}, sent {part.sha256}); resume with "
                                f"--resume {job_id}")

    def _counted(self, part: Part, done_before: int) -> Iterator[bytes]:
        """The part's bytes, moving the upload bar as they go."""
        sent = 0
        for data in part.chunks():
            sent += len(data)
            yield data
            self.progress.uploaded(done_before + part.input_bytes * sent // max(part.size, 1))

    def _follow(self, job_id: int) -> dict:
        """Poll the job until it ends, moving the processing bar; return its last status."""
        while True:
            body = self.client.job(job_id)
            self.progress.processed(body["finishedCount"] + body["errorCount"],
                                    body["totalCount"])
            if body["status"] in FINAL_STATUSES:
                return body
            time.sleep(self.poll_interval)

    def _write_results(self, summary: UploadSummary, body: dict) -> None:
        """Write FILE.failed.ndjson and, for a job that did not complete, the records it
        never applied to FILE.unprocessed.ndjson; each line names its line in the file."""
        sides = {}
        if body["errorCount"]:
            sides["failed"] = self.path.with_name(self.path.name + ".failed.ndjson")
        if body["status"] != "completed":
            sides["unprocessed"] = self.path.with_name(self.path.name + ".unprocessed.ndjson")
        counts = write_entries(self.client, summary.job_id, sides, self._items())
        summary.failed = counts.get("failed", 0)
        summary.unprocessed = counts.get("unprocessed", 0)
        summary.failed_path = sides.get("failed") if summary.failed else None
        summary.unprocessed_path = sides.get("unprocessed") if summary.unprocessed else None

    def _items(self) -> Iterator[Item]:
        with self.path.open("rb") as file:
            yield from read_items(file, self.fmt, self.schema)


def write_entries(client: BatchClient, job_id: int, sides: dict[str, Path],
                  items: Iterator[Item] | None) -> dict[str, int]:
    """Write each side's entries (failed, unprocessed...) to its path as NDJSON; with the
    file's ``items`` (its records in index order), each entry gains its line and record.
    Return how many each side held. The sides are read at once, each from its own stream."""
    counts: dict[str, int] = {}
    streams = {side: _Stream(client.entries(job_id, side)) for side in sides}
    outputs = {side: path.open("wb") for side, path in sides.items()}
    try:
        for index, item in enumerate(items or ()):
            if not any(stream.head is not None for stream in streams.values()):
                break
            for side, stream in streams.items():
                if stream.head is not None and stream.head["index"] == index:
                    entry = {**stream.take(), "line": item.line}
                    entry.setdefault("record", item.record)
                    outputs[side].write(orjson.dumps(entry) + b"\n")
                    counts[side] = counts.get(side, 0) + 1
        for side, stream in streams.items():  # without the file, or past its end
            while stream.head is not None:
                outputs[side].write(orjson.dumps(stream.take()) + b"\n")
                counts[side] = counts.get(side, 0) + 1
    finally:
        for output in outputs.values():
            output.close()
    for side, path in sides.items():
        if not counts.get(side):
            path.unlink(missing_ok=True)
    return counts


class _Stream:
    """An iterator with its next value in view."""

    def __init__(self, entries: Iterator[dict]) -> None:
        self._entries = entries
        self.head = next(entries, None)

    def take(self) -> dict:
        value, self.head = self.head, next(self._entries, None)
        return value


def summary_line(summary: UploadSummary, name: str) -> str:
    """Return the one-line summary of a multi-part import."""
    return (f"{name}: job {summary.job_id} {summary.status or 'not run'}, {summary.records:,} "
            f"records, {summary.applied:,} applied, {summary.failed:,} failed, "
            f"{summary.unprocessed:,} never applied ({summary.parts_sent} parts sent, "
            f"{summary.parts_kept} already there) in {summary.seconds:.1f}s")


def as_json(summary: UploadSummary) -> dict[str, Any]:
    """Return the summary as a JSON-ready dict."""
    return {"jobId": summary.job_id, "status": summary.status, "records": summary.records,
            "applied": summary.applied, "failed": summary.failed,
            "unprocessed": summary.unprocessed, "partsSent": summary.parts_sent,
            "partsKept": summary.parts_kept, "seconds": round(summary.seconds, 3),
            "failedFile": str(summary.failed_path) if summary.failed_path else None,
            "unprocessedFile": (str(summary.unprocessed_path) if summary.unprocessed_path
                                else None),
            "failureMessage": summary.failure_message, "aborted": summary.aborted}
