-- For operators: retention of per-record results, and the dashboard's list across tenants.

-- When the per-record results of a finished job (its submitted records and their outcomes)
-- were purged; the job's row, with its status, counts and timestamps, stays for good.
ALTER TABLE batch_jobs ADD COLUMN results_purged_at timestamptz;

-- The purge takes finished jobs whose results are still there, oldest first.
CREATE INDEX batch_jobs_purgeable ON batch_jobs (finished_at)
    WHERE finished_at IS NOT NULL AND results_purged_at IS NULL;

-- The dashboard lists every tenant's jobs, newest first.
CREATE INDEX batch_jobs_created ON batch_jobs (created_at DESC);
