-- Fault tolerance: bounded attempts per chunk and per job start, and the sweeper's marks.

-- Each delivery of a chunk counts one attempt, committed before the chunk's own transaction,
-- so a worker killed mid-chunk still leaves the attempt counted. attempted_at is progress
-- too: a chunk being worked on is not stalled.
ALTER TABLE batch_chunks
    ADD COLUMN attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error    text,
    ADD COLUMN attempted_at  timestamptz;

-- start_attempts bounds the job's start like attempts bounds a chunk; swept_at is when the
-- sweeper last re-enqueued the job, so it waits a whole stall period before doing it again.
ALTER TABLE batch_jobs
    ADD COLUMN start_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN swept_at       timestamptz;
