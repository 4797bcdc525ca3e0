"""Migrations (idempotent, concurrent) and tenant keys, on a real PostgreSQL."""

from __future__ import annotations

import shutil
import threading

import orjson
import psycopg
import pytest
from psycopg.types.json import Json

from app.store import jobs, migrations, tenants
from app.store.results import outcomes_page
from tests.support.databases import fresh_database


def test_upgrade_twice_and_concurrently_applies_each_file_once(servers):
    with fresh_database(servers.database_url) as url:  # fresh_database ran upgrade once
        results = []
        threads = [threading.Thread(target=lambda: results.append(migrations.upgrade(url)))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [[], [], []]
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        assert versions == [m.version for m in migrations.discover()]


def test_json_stored_before_0007_reads_back_the_same_after_it(servers, tmp_path):
    for migration in migrations.MIGRATIONS_DIR.glob("000[1-6]_*.sql"):
        shutil.copy(migration, tmp_path)
    records = [{"customerId": "c-1", "name": "Zoë", "custom": {"n": 1}}]
    outcomes = [{"customerId": "c-1", "index": 0, "message": "Customer created successfully"}]
    with fresh_database(servers.database_url, migrate=False) as url:
        migrations.upgrade(url, tmp_path)
        with psycopg.connect(url) as conn:
            tenant_id = tenants.ensure_tenant(conn, "before-0007")
            job_id = jobs.new_job_id()
            conn.execute("INSERT INTO batch_jobs (id, tenant_id, operation, total_count)"
                         " VALUES (%s, %s, 'customers', 1)", (job_id, tenant_id))
            conn.execute("INSERT INTO batch_job_records VALUES (%s, %s)", (job_id, Json(records)))
            conn.execute("INSERT INTO batch_chunks (job_id, chunk_no, first_index, record_count,"
                         " finished_count, successful, failed, done_at)"
                         " VALUES (%s, 0, 0, 1, 1, %s, '[]', now())", (job_id, Json(outcomes)))
        assert migrations.upgrade(url)[0] == "0007_json_as_bytes"  # then any later ones
        with psycopg.connect(url) as conn:
            assert orjson.loads(jobs.stored_records(conn, job_id)) == records
            (chunk,) = jobs.done_chunks(conn, job_id)
            assert (chunk.successful, chunk.failed) == (outcomes, [])
            assert outcomes_page(conn, job_id, "successful", after_index=-1, limit=5) == outcomes


def test_discover_refuses_badly_named_files(tmp_path):
    (tmp_path / "1_first.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="NNNN_name.sql"):
        migrations.discover(tmp_path)


def test_keys_are_stored_hashed_and_checked(db):
    pair = tenants.create_tenant(db, "hashing")
    stored = db.execute("SELECT api_key_digest, secret_key_digest FROM api_keys a"
                        " JOIN tenants t ON t.id = a.tenant_id WHERE t.name = 'hashing'").fetchone()
    assert pair.api_key.encode() not in bytes(stored[0]) and bytes(stored[0]) == tenants.digest(pair.api_key)
    assert tenants.authenticate(db, pair.api_key, pair.secret_key).name == "hashing"
    assert tenants.authenticate(db, pair.api_key, "wrong") is None
    assert tenants.authenticate(db, "unknown", pair.secret_key) is None


def test_two_active_pairs_and_revocation(db):
    first = tenants.create_tenant(db, "rotating")
    second = tenants.create_tenant(db, "rotating")
    assert tenants.authenticate(db, first.api_key, first.secret_key)
    assert tenants.authenticate(db, second.api_key, second.secret_key)
    assert tenants.revoke_key(db, first.api_key)
    assert tenants.authenticate(db, first.api_key, first.secret_key) is None
    assert tenants.authenticate(db, second.api_key, second.secret_key)
    assert not tenants.revoke_key(db, first.api_key)


def test_provision_spec_is_idempotent_and_validated(db):
    spec = "prov:prov-api-key:prov-secret"
    assert tenants.provision(db, spec) == 1
    assert tenants.provision(db, spec) == 0
    assert tenants.authenticate(db, "prov-api-key", "prov-secret").name == "prov"
    with pytest.raises(ValueError, match="tenant:apikey:secretkey"):
        tenants.parse_key_spec("only:two")
