-- For clients: job listing, idempotent submits and completion webhooks.

-- Listing pages newest first by the keyset (created_at, id); this index serves it (and
-- everything the index it replaces served, of which it is an extension).
CREATE INDEX batch_jobs_tenant_created_id ON batch_jobs (tenant_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS batch_jobs_tenant_created;
