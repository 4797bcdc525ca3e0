-- Each Celery worker's heartbeat, written every WORKER_HEARTBEAT_SECONDS by the worker itself,
-- so that operators see every host that runs workers and when each was last heard of: a host
-- that vanished stays listed, as lost, instead of silently dropping out of a ping's answers.
-- A worker that stops cleanly deletes its row; rows of hosts gone for a day are purged.
CREATE TABLE worker_heartbeats (
    host         text NOT NULL,      -- the machine's host name
    pid          integer NOT NULL,   -- the worker's main process on it
    node         text NOT NULL,      -- Celery's node name, e.g. celery@worker-1
    address      inet,               -- the address PostgreSQL sees the worker connect from
    concurrency  integer NOT NULL,   -- its pool processes
    started_at   timestamptz NOT NULL DEFAULT now(),
    beat_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host, pid)
);
