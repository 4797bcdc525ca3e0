"""post_records on real PostgreSQL: refused records post nothing, repeats can be reworded."""

from __future__ import annotations

import psycopg

from app.config import Config
from app.error_codes import INVALID_VALUE
from app.store.ledger import Entry
from workers.operations import ChunkContext, Outcome, ValidRecord
from workers.outcomes import post_records, unknown_customer_outcomes


def credit(record: ValidRecord) -> Entry:
    return Entry(record.index, record.data["customerId"], "cashback",
                 record.data["transactionId"], 10)


def test_refused_records_keep_their_outcome_and_post_nothing(database_url, redis_url,
                                                            db_tenant, db):
    context = ChunkContext(db_tenant, 101, Config({"DATABASE_URL": database_url,
                                                       "REDIS_URL": redis_url}))
    records = [ValidRecord(0, {"customerId": "kept", "transactionId": "t0"}),
               ValidRecord(1, {"customerId": "kept", "transactionId": "t1"})]
    refusal = Outcome.failed(1, INVALID_VALUE, "transactionId: refused for this test")
    with psycopg.connect(database_url) as conn:
        first = post_records(conn, context, records, credit,
                             lambda r, p: f"{r.data['transactionId']}: {p.points}",
                             refused={1: refusal})
        again = post_records(conn, context, records[:1], credit, lambda r, p: "applied",
                             refused={}, already_applied=lambda r, p: f"again {r.index}")
    assert [(o.ok, o.message) for o in first] == [(True, "t0: 10"), (False, refusal.message)]
    assert (again[0].ok, again[0].message, again[0].details["alreadyApplied"]) == (
        True, "again 0", True)
    assert db.execute("SELECT source_id FROM points_ledger WHERE tenant_id = %s",
                      (db_tenant,)).fetchall() == [("t0",)]


def test_a_transaction_id_applied_by_another_record_fails_with_9004(database_url, redis_url,
                                                                   db_tenant, db):
    config = Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    record = ValidRecord(0, {"customerId": "twice", "transactionId": "t-twice"})
    with psycopg.connect(database_url) as conn:
        first = post_records(conn, ChunkContext(db_tenant, 301, config), [record], credit,
                             lambda r, p: "applied", refused={})
        same_record = post_records(conn, ChunkContext(db_tenant, 301, config), [record], credit,
                                   lambda r, p: "applied", refused={})
        other_job = post_records(conn, ChunkContext(db_tenant, 302, config), [record], credit,
                                 lambda r, p: "applied", refused={})
    assert (first[0].ok, same_record[0].ok) == (True, True)
    assert (other_job[0].ok, other_job[0].code.code) == (False, 9004)
    assert "applied by record 0 of job 301" in other_job[0].message
    assert db.execute("SELECT count(*), sum(points) FROM points_ledger WHERE tenant_id = %s",
                      (db_tenant,)).fetchone() == (1, 10)


def test_unknown_customers_are_refused_by_index(database_url, redis_url, db_tenant, db):
    db.execute("INSERT INTO customers (tenant_id, customer_id, profile) VALUES (%s, 'known', '{}')",
               (db_tenant,))
    context = ChunkContext(db_tenant, 101, Config({"DATABASE_URL": database_url,
                                                       "REDIS_URL": redis_url}))
    records = [ValidRecord(4, {"customerId": "known"}), ValidRecord(7, {"customerId": "nobody"})]
    with psycopg.connect(database_url) as conn:
        refused = unknown_customer_outcomes(conn, context, records)
    assert list(refused) == [7]
    assert refused[7].message.startswith("customerId: No customer 'nobody'")
    assert refused[7].code.code == 7000
