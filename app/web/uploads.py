"""Bulk uploads from the request: a streamed NDJSON or CSV body, or one part of several.

A body streams into PostgreSQL as it arrives (``app.web.framing`` cuts it into blocks,
``app.store.uploads`` COPYs them), in one transaction: a body cut off or refused half-way
stores nothing. A streamed upload is an open job, its part 1 and its close, all in that one
transaction; a multi-part upload does the same in three kinds of request.
"""

from __future__ import annotations

import psycopg
from flask import request

from app.error_codes import (
    EXCEEDS_LIMITS,
    INVALID_PAYLOAD,
    INVALID_VALUE,
    RATE_LIMITED,
    STATE_CONFLICT,
    UNSUPPORTED_TYPE,
)
from app.services import Services
from app.store import jobs, tenants, uploads
from app.store.idempotency import Submission
from app.web.errors import ApiError
from app.web.framing import PartReader
from app.web.lookup import job_not_found
from app.web.submission import submit_job, submit_upload

# The body types of a bulk upload, and the format each names.
UPLOAD_TYPES = {"application/x-ndjson": "ndjson", "text/csv": "csv"}
# What a tenant past BULK_MAX_ACTIVE_JOBS is told to wait: a bulk job takes minutes.
CAP_RETRY_AFTER_SECONDS = 30
# A client that sends nothing for this long while its body streams in is cut off, and
# nothing of its upload is stored: its PostgreSQL connection is not held for ever.
IDLE_SECONDS = 60


def upload_format() -> str | None:
    """Return the format the request's Content-Type names, if it names a bulk upload."""
    fmt = UPLOAD_TYPES.get(request.mimetype)
    charset = request.mimetype_params.get("charset")
    if fmt and charset and charset.lower() not in ("utf-8", "utf8"):
        raise ApiError(UNSUPPORTED_TYPE, f"An upload is read as UTF-8, not {charset}.")
    return fmt


def required_format() -> str:
    """Return the format of a part's body; 415 unless it is NDJSON or CSV."""
    fmt = upload_format()
    if fmt is None:
        raise ApiError(UNSUPPORTED_TYPE, "Send a part as NDJSON (Content-Type: "
                                         "application/x-ndjson) or CSV (text/csv).")
    return fmt


def submit_streamed(services: Services, tenant: tenants.Tenant, operation: str,
                    fmt: str) -> Submission:
    """Store a streamed upload as a queued bulk job (or find the one its key names)."""
    config = services.config
    with services.db.statement() as conn:  # refused before the body is read, if it will be
        _refuse_past_cap(conn, tenant.id, config.BULK_MAX_ACTIVE_JOBS, own=0)
    reader = _reader(services, fmt, max_records=config.BULK_MAX_RECORDS,
                     max_bytes=config.BULK_MAX_BYTES)

    def store(conn: psycopg.Connection) -> tuple[int, bytes]:
        uploads.lift_statement_timeout(conn)
        job_id = uploads.open_job(conn, tenant.id, operation)
        _store_part(conn, job_id, 1, reader)
        _close(conn, job_id, config.BULK_MAX_RECORDS)
        # Counted again once this job is in, under the tenant's lock, until the commit.
        _refuse_past_cap(conn, tenant.id, config.BULK_MAX_ACTIVE_JOBS, own=1, locked=True)
        return job_id, reader.sha256

    return submit_upload(services, tenant, operation, store)


def open_upload(services: Services, tenant: tenants.Tenant, operation: str) -> Submission:
    """Open a multi-part upload: an open bulk job, with no records yet."""
    limit = services.config.BULK_MAX_ACTIVE_JOBS

    def create(conn: psycopg.Connection) -> int:
        _refuse_past_cap(conn, tenant.id, limit, own=0, locked=True)
        return uploads.open_job(conn, tenant.id, operation)

    return submit_job(services, tenant, operation, create, lambda: ("open upload",))


def store_part(services: Services, tenant: tenants.Tenant, job_id: int, raw_id: str,
               part_no: int) -> uploads.Part:
    """Store (or replace) part ``part_no`` of the tenant's open upload from the body."""
    config = services.config
    with services.db.transaction() as conn:
        _open_job(conn, tenant.id, job_id, raw_id)
        if part_no not in uploads.PART_NUMBERS:
            raise ApiError(INVALID_VALUE, f"A part number is {uploads.PART_NUMBERS.start} to "
                                          f"{uploads.PART_NUMBERS.stop - 1}.")
        fmt = required_format()
        try:
            uploads.lock_part(conn, job_id, part_no)
        except uploads.PartBusy:
            raise ApiError(STATE_CONFLICT, f"Part {part_no} of upload {raw_id} is being stored by "
                                          "another request right now.") from None
        room = config.BULK_MAX_RECORDS - uploads.stored_records(conn, job_id, besides=part_no)
        room_bytes = config.BULK_MAX_BYTES - uploads.stored_bytes(conn, job_id, besides=part_no)
        reader = _reader(services, fmt, max_records=room,
                         max_bytes=min(config.BULK_PART_MAX_BYTES, room_bytes))
        uploads.lift_statement_timeout(conn)
        return _store_part(conn, job_id, part_no, reader)


def close_upload(services: Services, tenant: tenants.Tenant, job_id: int, raw_id: str
                 ) -> tuple[jobs.Job, bool]:
    """Number the records of the tenant's open upload and queue it; return the job and
    whether it was closed now (False: it was closed before, and is answered as it is)."""
    with services.db.transaction() as conn:
        job = _lock(conn, tenant.id, job_id, raw_id)
        if job.status != jobs.OPEN:
            if job.status == "stopped" and job.total_count == 0:
                raise ApiError(STATE_CONFLICT, f"Upload {raw_id} was discarded; it cannot be "
                                              "closed.")
            return job, False
        _close(conn, job_id, services.config.BULK_MAX_RECORDS)
        return jobs.get_job(conn, job_id), True


def _reader(services: Services, fmt: str, *, max_records: int, max_bytes: int) -> PartReader:
    """Return the reader of the request's body (a CSV part's header is read here)."""
    request.max_content_length = max_bytes
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        sock.settimeout(IDLE_SECONDS)
    return PartReader(request.stream, fmt, block_lines=services.config.CHUNK_SIZE,
                      max_records=max_records, max_bytes=max_bytes,
                      length=request.content_length)


def _store_part(conn: psycopg.Connection, job_id: int, part_no: int,
                reader: PartReader) -> uploads.Part:
    uploads.begin_part(conn, job_id, part_no, reader.fmt, reader.header)
    uploads.copy_blocks(conn, job_id, part_no, reader.blocks())
    return uploads.finish_part(conn, job_id, part_no, records=reader.records, size=reader.size,
                               sha256=reader.sha256)


def _close(conn: psycopg.Connection, job_id: int, max_records: int) -> int:
    total = uploads.stored_records(conn, job_id)
    if total == 0:
        raise ApiError(INVALID_PAYLOAD, "The upload holds no records (blank lines and a CSV "
                                        "header are not records); nothing was stored.")
    if total > max_records:
        raise ApiError(EXCEEDS_LIMITS, f"The upload's parts hold {total} records; at most "
                                       f"{max_records} (BULK_MAX_RECORDS).")
    return uploads.close(conn, job_id)


def _refuse_past_cap(conn: psycopg.Connection, tenant_id: int, limit: int, *, own: int,
                     locked: bool = False) -> None:
    """429 if the tenant has more than ``limit`` active bulk jobs, ``own`` of them this
    request's (counted under the tenant's lock if ``locked``)."""
    active = uploads.active_bulk_jobs(conn, tenant_id, locked=locked)
    if active - own >= limit:
        raise ApiError(RATE_LIMITED, f"You have {active - own} bulk jobs open, queued or "
                                     "running, the most allowed at once "
                                     "(BULK_MAX_ACTIVE_JOBS); retry once one has ended, or "
                                     "close or discard an open upload.",
                       headers={"Retry-After": str(CAP_RETRY_AFTER_SECONDS)})


def _open_job(conn: psycopg.Connection, tenant_id: int, job_id: int, raw_id: str) -> jobs.Job:
    """Lock the tenant's job to store a part in it (``FOR SHARE``); 404 if none, 409 unless
    it is an open upload."""
    job = _lock(conn, tenant_id, job_id, raw_id, exclusive=False)
    if job.status != jobs.OPEN:
        raise ApiError(STATE_CONFLICT, f"Job {raw_id} is {job.status}, not an open upload: no part "
                                      "can be stored.")
    return job


def _lock(conn: psycopg.Connection, tenant_id: int, job_id: int, raw_id: str, *,
          exclusive: bool = True) -> jobs.Job:
    """Lock the tenant's job (exclusively: refused at once while a part streams in)."""
    try:
        job = uploads.lock_open_job(conn, job_id, tenant_id, exclusive=exclusive)
    except psycopg.errors.LockNotAvailable:
        raise ApiError(STATE_CONFLICT, f"A part of upload {raw_id} is being stored; try again "
                                      "once it is.") from None
    if job is None:
        raise job_not_found(raw_id)
    return job
