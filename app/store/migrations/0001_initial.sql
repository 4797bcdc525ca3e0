-- Tenants, their API keys, batch jobs with their records and chunks, and customers.

CREATE TABLE tenants (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored only as SHA-256 digests: they are long random strings, so a slow
-- password hash would add latency to every request without adding safety.
CREATE TABLE api_keys (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    api_key_digest     bytea NOT NULL UNIQUE,
    secret_key_digest  bytea NOT NULL,
    api_key_hint       text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at         timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE batch_jobs (
    id              text PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    operation       text NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'stopped')),
    total_count     integer NOT NULL CHECK (total_count > 0),
    -- Final figures, written when the job ends; live figures come from its chunks.
    finished_count  integer NOT NULL DEFAULT 0,
    error_count     integer NOT NULL DEFAULT 0,
    failure_message text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    CHECK (finished_count + error_count <= total_count)
);
CREATE INDEX batch_jobs_tenant_created ON batch_jobs (tenant_id, created_at DESC);
CREATE INDEX batch_jobs_unfinished ON batch_jobs (created_at) WHERE status IN ('queued', 'running');

-- The records as submitted, kept apart from the job row so that status updates never
-- rewrite them. `json` keeps the text as sent: no decomposition cost on the POST path.
CREATE TABLE batch_job_records (
    job_id   text PRIMARY KEY REFERENCES batch_jobs (id) ON DELETE CASCADE,
    records  json NOT NULL
);

-- A chunk is a contiguous range of a job's records, applied in one transaction; done_at
-- set means its records' outcomes are committed and it must never be applied again.
CREATE TABLE batch_chunks (
    job_id          text NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
    chunk_no        integer NOT NULL,
    first_index     integer NOT NULL,
    record_count    integer NOT NULL CHECK (record_count > 0),
    finished_count  integer NOT NULL DEFAULT 0,
    error_count     integer NOT NULL DEFAULT 0,
    successful      json,
    failed          json,
    done_at         timestamptz,
    PRIMARY KEY (job_id, chunk_no)
);

CREATE TABLE customers (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id  text NOT NULL,
    profile      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id)
);
