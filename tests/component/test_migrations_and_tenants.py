"""Migrations (idempotent, concurrent) and tenant keys, on a real PostgreSQL."""

from __future__ import annotations

import secrets
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


def migrated_up_to(tmp_path, version: int):
    """A directory holding the migrations before ``version``, to build an older schema."""
    for migration in migrations.discover():
        if migration.version < version:
            shutil.copy(migrations.MIGRATIONS_DIR / f"{migration.name}.sql", tmp_path)
    return tmp_path


def test_json_stored_before_0007_reads_back_the_same_after_it(servers, tmp_path):
    records = [{"customerId": "c-1", "name": "Zoë", "custom": {"n": 1}}]
    outcomes = [{"customerId": "c-1", "index": 0, "message": "Customer created successfully"}]
    with fresh_database(servers.database_url, migrate=False) as url:
        migrations.upgrade(url, migrated_up_to(tmp_path, 7))
        legacy = secrets.token_hex(16)  # a job id as jobs had them then
        with psycopg.connect(url) as conn:
            tenant_id = tenants.ensure_tenant(conn, "before-0007")
            conn.execute("INSERT INTO batch_jobs (id, tenant_id, operation, total_count)"
                         " VALUES (%s, %s, 'customers', 1)", (legacy, tenant_id))
            conn.execute("INSERT INTO batch_job_records VALUES (%s, %s)", (legacy, Json(records)))
            conn.execute("INSERT INTO batch_chunks (job_id, chunk_no, first_index, record_count,"
                         " finished_count, successful, failed, done_at)"
                         " VALUES (%s, 0, 0, 1, 1, %s, '[]', now())", (legacy, Json(outcomes)))
        assert migrations.upgrade(url)[:2] == ["0007_json_as_bytes", "0008_integer_job_ids"]
        with psycopg.connect(url) as conn:
            job_id = jobs.id_of_legacy(conn, legacy)
            assert orjson.loads(jobs.stored_records(conn, job_id)) == records
            (chunk,) = jobs.done_chunks(conn, job_id)
            assert (chunk.successful, chunk.failed) == (outcomes, [])
            assert outcomes_page(conn, job_id, "successful", after_index=-1, limit=5) == outcomes


def test_jobs_stored_before_0008_keep_everything_under_random_integer_ids(servers, tmp_path):
    with fresh_database(servers.database_url, migrate=False) as url:
        migrations.upgrade(url, migrated_up_to(tmp_path, 8))
        legacy = [secrets.token_hex(16) for _ in range(40)]
        with psycopg.connect(url) as conn:
            tenant_id = tenants.ensure_tenant(conn, "before-0008")
            for number, old in enumerate(legacy):
                conn.execute("INSERT INTO batch_jobs (id, tenant_id, operation, total_count)"
                             " VALUES (%s, %s, 'cashback', 1)", (old, tenant_id))
                conn.execute("INSERT INTO batch_chunks (job_id, chunk_no, first_index,"
                             " record_count) VALUES (%s, 0, 0, 1)", (old,))
                conn.execute("INSERT INTO points_ledger (tenant_id, customer_id, source, source_id,"
                             " points, job_id, record_index) VALUES (%s, 'c', 'cashback', %s, 5,"
                             " %s, 0)", (tenant_id, f"t-{number}", old))
                conn.execute("INSERT INTO job_callbacks (job_id, url, signing_key_digest)"
                             " VALUES (%s, 'https://example.com/hook', '\\x00')", (old,))
                conn.execute("INSERT INTO idempotency_keys (tenant_id, key, fingerprint, job_id)"
                             " VALUES (%s, %s, '\\x00', %s)", (tenant_id, f"k-{number}", old))
        assert migrations.upgrade(url)[0] == "0008_integer_job_ids"
        with psycopg.connect(url) as conn:
            ids = {old: jobs.id_of_legacy(conn, old) for old in legacy}
            assert all(0 < new < 2**53 for new in ids.values())
            assert len(set(ids.values())) == len(legacy)
            assert sorted(ids.values()) != list(range(min(ids.values()), min(ids.values()) + 40))
            for table in ("batch_chunks", "points_ledger", "job_callbacks", "idempotency_keys"):
                named = {row[0] for row in conn.execute(f"SELECT job_id FROM {table}")}
                assert named == set(ids.values()), table
            ledger = dict(conn.execute("SELECT source_id, job_id FROM points_ledger").fetchall())
            assert ledger == {f"t-{n}": ids[old] for n, old in enumerate(legacy)}
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute("INSERT INTO batch_chunks (job_id, chunk_no, first_index,"
                             " record_count) VALUES (1, 0, 0, 1)")


def test_customers_stored_before_0009_get_gameball_ids_never_given_again(servers, tmp_path):
    with fresh_database(servers.database_url, migrate=False) as url:
        migrations.upgrade(url, migrated_up_to(tmp_path, 9))
        with psycopg.connect(url) as conn:
            tenant_id = tenants.ensure_tenant(conn, "before-0009")
            conn.execute("INSERT INTO customers (tenant_id, customer_id, profile)"
                         " SELECT %s, 'c-' || n, '{}' FROM generate_series(1, 30) AS n",
                         (tenant_id,))
            conn.execute("INSERT INTO points_ledger (tenant_id, customer_id, source, source_id,"
                         " points, job_id, record_index) VALUES (%s, 'c-1', 'cashback', 't', 5,"
                         " 1, 0)", (tenant_id,))
        assert migrations.upgrade(url)[0] == "0009_gameball_ids_and_ledger_amounts"  # then later ones
        with psycopg.connect(url, autocommit=True) as conn:
            before = dict(conn.execute("SELECT customer_id, gameball_id FROM customers").fetchall())
            assert len(before) == len(set(before.values())) == 30
            assert conn.execute("SELECT amount FROM points_ledger").fetchall() == [(None,)]
            conn.execute("DELETE FROM customers WHERE customer_id = 'c-30'")
            (new,) = conn.execute("INSERT INTO customers (tenant_id, customer_id, profile)"
                                  " VALUES (%s, 'c-30', '{}') RETURNING gameball_id",
                                  (tenant_id,)).fetchone()
            assert new > max(before.values())  # a number given once is never given again
            with pytest.raises(psycopg.errors.GeneratedAlways):
                conn.execute("UPDATE customers SET gameball_id = 1")


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


def test_a_deleted_pair_stops_working_and_can_be_provisioned_again(db):
    spec = "published:published-api-key:published-secret"
    other = tenants.create_tenant(db, "published")
    assert tenants.provision(db, spec) == 1
    assert tenants.delete_key(db, "published-api-key")
    assert tenants.authenticate(db, "published-api-key", "published-secret") is None
    assert tenants.authenticate(db, other.api_key, other.secret_key).name == "published"
    assert not tenants.delete_key(db, "published-api-key")
    # Where a revoked pair would stay revoked, a deleted one comes back when provisioned.
    assert tenants.provision(db, spec) == 1
    assert tenants.authenticate(db, "published-api-key", "published-secret").name == "published"
