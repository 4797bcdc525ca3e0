-- For clients: job listing, idempotent submits and completion webhooks.

-- Listing pages newest first by the keyset (created_at, id); this index serves it (and
-- everything the index it replaces served, of which it is an extension).
CREATE INDEX batch_jobs_tenant_created_id ON batch_jobs (tenant_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS batch_jobs_tenant_created;

-- An Idempotency-Key names the first job submitted with it, per tenant. The fingerprint is
-- a SHA-256 of the request (operation, records, callback URL): the same key with another
-- request is refused. Written in the job's transaction, so a key never names a job that
-- is not committed, and two identical requests racing create one job.
CREATE TABLE idempotency_keys (
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          text NOT NULL,
    fingerprint  bytea NOT NULL,
    job_id       text NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- A job's completion webhook: where its final status is POSTed, and how delivery went.
-- signing_key_digest is the SHA-256 of the SecretKey that submitted the job (the digest
-- api_keys holds): its hex form is the HMAC key, which the client derives from its secret.
CREATE TABLE job_callbacks (
    job_id              text PRIMARY KEY REFERENCES batch_jobs (id) ON DELETE CASCADE,
    url                 text NOT NULL,
    signing_key_digest  bytea NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    delivered_at        timestamptz
);
