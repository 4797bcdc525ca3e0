-- A job's records and its chunks' outcomes become the JSON bytes the service wrote (orjson),
-- stored as they are. As `json`, PostgreSQL parsed every 260 KB request only to check what
-- orjson had just produced, then compressed it with pglz: together about a tenth of the
-- database's CPU per imported record. They are read back whole by the service, never
-- queried by field; the paged results convert them where they need to.
ALTER TABLE batch_job_records
    ALTER COLUMN records TYPE bytea USING convert_to(records::text, 'UTF8');
ALTER TABLE batch_chunks
    ALTER COLUMN successful TYPE bytea USING convert_to(successful::text, 'UTF8'),
    ALTER COLUMN failed TYPE bytea USING convert_to(failed::text, 'UTF8');

-- lz4 compresses about as well as pglz at a fraction of its CPU. A server built without
-- lz4 refuses the setting; the columns then keep the default compression.
DO $$
BEGIN
    ALTER TABLE batch_job_records ALTER COLUMN records SET COMPRESSION lz4;
    ALTER TABLE batch_chunks
        ALTER COLUMN successful SET COMPRESSION lz4,
        ALTER COLUMN failed SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; records keep the default compression';
END
$$;
