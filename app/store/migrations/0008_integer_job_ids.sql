-- Job ids become positive integers below 2^53, as Gameball's published contract answers them
-- ({"jobId": 1748392}) and as JavaScript can hold them exactly. They stay random (drawn by
-- the service from a cryptographic source, never in sequence) and are never reused: a job's
-- row is never deleted (retention purges its records and outcomes only).
--
-- Existing jobs get a random integer id each; their old hexadecimal id stays in legacy_id,
-- which the API still accepts in paths. Every table that names a job follows.

CREATE TEMPORARY TABLE job_id_map (legacy_id text PRIMARY KEY, id bigint) ON COMMIT DROP;
INSERT INTO job_id_map (legacy_id) SELECT id FROM batch_jobs;

-- 56 random bits of a version 4 UUID (the version and variant digits left out), kept to 53.
CREATE FUNCTION pg_temp.random_job_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT ('x' || substr(h, 1, 2) || substr(h, 21, 12))::bit(56)::bigint & 9007199254740991
    FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS h) AS draw
$$;

DO $$
BEGIN
    LOOP
        UPDATE job_id_map SET id = pg_temp.random_job_id() WHERE id IS NULL;
        -- Draws that collided (or drew 0) are drawn again.
        UPDATE job_id_map SET id = NULL WHERE legacy_id IN (
            SELECT legacy_id FROM (
                SELECT legacy_id, id, row_number() OVER (PARTITION BY id ORDER BY legacy_id) AS n
                FROM job_id_map) AS drawn
            WHERE n > 1 OR id = 0);
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$;

CREATE FUNCTION pg_temp.new_job_id(legacy text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT id FROM job_id_map WHERE legacy_id = legacy
$$;

ALTER TABLE batch_job_records DROP CONSTRAINT batch_job_records_job_id_fkey;
ALTER TABLE batch_chunks DROP CONSTRAINT batch_chunks_job_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_job_id_fkey;
ALTER TABLE job_callbacks DROP CONSTRAINT job_callbacks_job_id_fkey;

ALTER TABLE batch_jobs ADD COLUMN legacy_id text UNIQUE;
UPDATE batch_jobs SET legacy_id = id;
ALTER TABLE batch_jobs ALTER COLUMN id TYPE bigint USING pg_temp.new_job_id(id);
ALTER TABLE batch_jobs ADD CONSTRAINT batch_jobs_id_safe_integer
    CHECK (id > 0 AND id < 9007199254740992);

ALTER TABLE batch_job_records ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);
ALTER TABLE batch_chunks ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);
ALTER TABLE idempotency_keys ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);
ALTER TABLE job_callbacks ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);
ALTER TABLE customer_events ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);
ALTER TABLE points_ledger ALTER COLUMN job_id TYPE bigint USING pg_temp.new_job_id(job_id);

ALTER TABLE batch_job_records ADD FOREIGN KEY (job_id) REFERENCES batch_jobs (id) ON DELETE CASCADE;
ALTER TABLE batch_chunks ADD FOREIGN KEY (job_id) REFERENCES batch_jobs (id) ON DELETE CASCADE;
ALTER TABLE idempotency_keys ADD FOREIGN KEY (job_id) REFERENCES batch_jobs (id) ON DELETE CASCADE;
ALTER TABLE job_callbacks ADD FOREIGN KEY (job_id) REFERENCES batch_jobs (id) ON DELETE CASCADE;
