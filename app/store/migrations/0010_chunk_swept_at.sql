-- The sweeper's mark on a chunk it sent again because its delivery was lost mid-chunk (the
-- worker's host cut off or killed), so that it waits a whole stall period before sending the
-- same chunk once more; batch_jobs.swept_at does the same for a whole job.
ALTER TABLE batch_chunks ADD COLUMN swept_at timestamptz;
