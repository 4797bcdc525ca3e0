-- Bulk jobs: records uploaded as NDJSON or CSV, streamed in one request or sent in numbered
-- parts, kept as blocks of raw lines (one block is one chunk's records).

-- An "open" job is a multi-part upload not closed yet: its records are not numbered, so it
-- has no total, and nothing runs it. A discarded open job is "stopped" with no records.
ALTER TABLE batch_jobs DROP CONSTRAINT batch_jobs_status_check,
    ADD CONSTRAINT batch_jobs_status_check
    CHECK (status IN ('open', 'queued', 'running', 'completed', 'failed', 'stopped'));
ALTER TABLE batch_jobs DROP CONSTRAINT batch_jobs_total_count_check,
    ADD CONSTRAINT batch_jobs_total_count_check
    CHECK (total_count > 0 OR (total_count = 0 AND status IN ('open', 'stopped')));

-- Bulk jobs go to their own queue, a window of chunks at a time, and a tenant may have only
-- so many at once (BULK_MAX_ACTIVE_JOBS): this index counts them.
ALTER TABLE batch_jobs ADD COLUMN bulk boolean NOT NULL DEFAULT false;
CREATE INDEX batch_jobs_active_bulk ON batch_jobs (tenant_id)
    WHERE bulk AND status IN ('open', 'queued', 'running');
-- Open uploads nobody closes are discarded after BULK_UPLOAD_EXPIRY_HOURS.
CREATE INDEX batch_jobs_open ON batch_jobs (created_at) WHERE status = 'open';

-- One part of an upload (a streamed upload is part 1): its format, a CSV part's header
-- (the field names of its columns), what it holds and the SHA-256 of its bytes, by which a
-- client resuming an upload tells which parts the service has.
CREATE TABLE batch_parts (
    job_id        bigint NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
    part_no       integer NOT NULL CHECK (part_no BETWEEN 1 AND 10000),
    format        text NOT NULL CHECK (format IN ('ndjson', 'csv')),
    header        text[],
    record_count  integer NOT NULL CHECK (record_count >= 0),
    byte_count    bigint NOT NULL CHECK (byte_count >= 0),
    sha256        bytea NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, part_no),
    CHECK ((format = 'csv') = (header IS NOT NULL))
);

-- The records of a part, CHUNK_SIZE lines to a block, written with COPY as the body arrives.
-- `lines` are the raw lines, newline-separated: an NDJSON line as sent, a CSV row as the JSON
-- array of its cells. The web never parses a record; a line it could not keep (longer than
-- MAX_BODY_BYTES, a CSV row not readable) is left empty and `rejected` says why, by its
-- position in the block: the worker fails that record with the reason.
CREATE TABLE batch_record_blocks (
    job_id      bigint NOT NULL,
    part_no     integer NOT NULL,
    block_no    integer NOT NULL,
    line_count  integer NOT NULL CHECK (line_count > 0),
    lines       bytea NOT NULL,
    rejected    bytea,
    PRIMARY KEY (job_id, part_no, block_no),
    FOREIGN KEY (job_id, part_no) REFERENCES batch_parts (job_id, part_no) ON DELETE CASCADE
);

DO $$
BEGIN
    ALTER TABLE batch_record_blocks ALTER COLUMN lines SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; blocks keep the default compression';
END
$$;

-- A bulk job's chunk is one block; the chunk row names it. sent_at: when the chunk's message
-- was sent, so a job keeps a window of chunks in flight and the sweeper resends those only.
ALTER TABLE batch_chunks
    ADD COLUMN part_no   integer,
    ADD COLUMN block_no  integer,
    ADD COLUMN sent_at   timestamptz;
-- Chunks not applied yet, in order: whether a job is done, and its next chunk to send, are
-- found without walking the chunks it already applied (a bulk job has thousands).
CREATE INDEX batch_chunks_pending ON batch_chunks (job_id, chunk_no) WHERE done_at IS NULL;
-- The chunks of jobs from before were all sent when their job started.
UPDATE batch_chunks SET sent_at = coalesce(attempted_at, now()) WHERE done_at IS NULL;
