"""The points ledger on real PostgreSQL: append-only, exactly once, never negative."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest

from app.catalogue import OPERATIONS
from app.config import Config, ConfigError
from app.store import ledger, points_rules
from app.store.ledger import Entry
from tests.support.jobs import submit_job
from tests.support.service import wait_until
from workers import engine
from workers.operations import ChunkContext
from workers.operations.cashback import apply_cashback


def post(database_url: str, tenant_id: int, entries: list[Entry], job_id: int = 101
         ) -> dict[int, ledger.Posting]:
    with psycopg.connect(database_url) as conn:
        return ledger.post(conn, tenant_id, job_id, entries)


def credit(index: int, source_id: str, points: int, customer: str = "c") -> Entry:
    return Entry(index, customer, "cashback", source_id, points)


def test_entries_apply_once_and_debits_never_overdraw(database_url, db_tenant, db):
    first = post(database_url, db_tenant, [
        credit(0, "t1", 50), credit(1, "t1", 50), credit(2, "t1", 60),
        Entry(3, "c", "redemption", "r1", -40), Entry(4, "c", "redemption", "r2", -20)])
    assert [first[i].status for i in range(5)] == [
        "applied", "already_applied", "conflict", "applied", "insufficient"]
    assert first[3].balance == ledger.Balance(10)
    again = post(database_url, db_tenant, [credit(0, "t1", 50)], job_id="another")
    assert again[0].status == "already_applied" and again[0].earlier.job_id == 101
    assert db.execute("SELECT available FROM points_balances WHERE tenant_id = %s",
                      (db_tenant,)).fetchone() == (10,)


def test_a_row_keeps_the_money_its_points_were_for(database_url, db_tenant, db):
    post(database_url, db_tenant, [
        Entry(0, "c", "cashback", "money-1", 49, amount=Decimal("49.99")),
        Entry(1, "c", "adjustment", "money-2", 5)])
    rows = db.execute("SELECT source_id, amount FROM points_ledger WHERE tenant_id = %s"
                      " AND source_id LIKE 'money-%%' ORDER BY source_id", (db_tenant,)).fetchall()
    assert rows == [("money-1", Decimal("49.99")), ("money-2", None)]


def test_the_ledger_is_append_only_and_balances_never_negative(db_tenant, db, database_url):
    post(database_url, db_tenant, [credit(0, "t", 5)])
    for statement in ("UPDATE points_ledger SET points = 500", "DELETE FROM points_ledger",
                      "TRUNCATE points_ledger"):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            db.execute(statement)
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE points_balances SET available = -1 WHERE tenant_id = %s",
                   (db_tenant,))


def blocked_on_a_lock(db) -> bool:
    row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND wait_event_type = 'Lock'").fetchone()
    return row[0] > 0


def test_a_source_id_taken_concurrently_for_another_customer_is_seen(database_url, db_tenant,
                                                                      db):
    # Holding the first transaction open makes the second wait on the unique index, then
    # find its row taken: it must walk again and report a conflict, not apply twice.
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1")  # a transaction is open: post() nests a savepoint in it
        ledger.post(holder, db_tenant, 201, [credit(0, "shared", 7, customer="a")])
        result = {}
        def wait_then_post():
            try:
                result.update(post(database_url, db_tenant,
                                   [credit(0, "shared", 7, customer="b")], job_id=202))
            except Exception as error:  # noqa: BLE001 - reported by the assertions below
                result["error"] = error
        waiter = threading.Thread(target=wait_then_post)
        waiter.start()
        wait_until(lambda: blocked_on_a_lock(db), timeout=10, what="the waiter to block")
        assert waiter.is_alive(), result   # blocked on the uncommitted row
        holder.commit()
    waiter.join(10)
    assert result[0].status == "conflict" and result[0].earlier.customer_id == "a"


def test_default_rates_are_settings(database_url, redis_url):
    base = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    rule = points_rules.default_rule(
        Config({**base, "DEFAULT_EARNING_RATE": "0.5", "DEFAULT_REDEMPTION_RATE": "20"}))
    assert (rule.points_earned(Decimal(9)), rule.points_to_redeem(Decimal(1))) == (4, 20)
    with pytest.raises(ConfigError, match="DEFAULT_REDEMPTION_RATE must be a positive"):
        Config({**base, "DEFAULT_REDEMPTION_RATE": "0"})


def test_a_chunk_delivered_again_changes_no_balance(make_services, db_tenant, db):
    services = make_services(CHUNK_SIZE="2")
    records = [{"customerId": "again", "transactionId": f"t{n}", "amount": 10,
                "transactionTime": "2025-03-14T10:00:00Z"} for n in range(3)]
    job_id = submit_job(services, db_tenant, records, "cashback")
    engine.start_job(services, job_id)
    assert engine.apply_chunk(services, job_id, 0).finished_count == 2
    # The done marker skips it ...
    assert engine.apply_chunk(services, job_id, 0).skipped_because == "already applied"
    # ... and without the marker, the ledger itself refuses a second application.
    context = ChunkContext(db_tenant, job_id, services.config)
    with services.db.transaction() as conn:
        successful, failed = engine.evaluate_chunk(OPERATIONS["cashback"], apply_cashback, conn, context,
                                                    records, 0, 2)
    assert failed == [] and [e["alreadyApplied"] for e in successful] == [True, True]
    assert db.execute("SELECT count(*), sum(points) FROM points_ledger WHERE tenant_id = %s",
                      (db_tenant,)).fetchone() == (2, 20)
