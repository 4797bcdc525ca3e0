"""Applying customers: each upsert reports its own records, exactly, however often it runs."""

from __future__ import annotations

from app.catalogue import OPERATIONS
from tests.support.operations import add_operation
from workers import engine
from workers.operations import ChunkContext, ValidRecord
from workers.operations.customers import CREATED, UPDATED, apply_customers

CUSTOMERS = OPERATIONS["customers"]
from tests.support.factories import customer
from tests.support.jobs import submit_job


def valid(index: int, record: dict) -> ValidRecord:
    return ValidRecord(index, CUSTOMERS.load(record))


def test_two_upserts_in_one_transaction_report_only_their_own_records(make_services,
                                                                     db_tenant, db):
    services = make_services()
    context = ChunkContext(db_tenant, "twice", services.config)
    with services.db.transaction() as conn:
        first = apply_customers(conn, context, [valid(0, customer("st-1")), valid(1, customer("st-2"))])
        second = apply_customers(conn, context, [valid(0, customer("st-2", name="New")),
                                                 valid(1, customer("st-3"))])
    assert [o.message for o in first] == [CREATED, CREATED]
    assert [(o.index, o.message) for o in second] == [(0, UPDATED), (1, CREATED)]
    with services.db.transaction() as conn:  # the next transaction on the connection works too
        again = apply_customers(conn, context, [valid(5, customer("st-1"))])
    assert [(o.index, o.message) for o in again] == [(5, UPDATED)]
    profile = db.execute("SELECT profile FROM customers WHERE tenant_id = %s AND customer_id = %s",
                         (db_tenant, "st-2")).fetchone()[0]
    assert profile["name"] == "New" and "customerId" not in profile
    assert profile["dateOfBirth"] == "1990-01-01"  # a loaded date, stored as it was sent


def test_a_chunk_failing_after_upserting_is_applied_one_by_one_exactly(make_services, db_tenant,
                                                                     monkeypatch, db):
    def fail_after_upserting(conn, tenant, records):
        outcomes = apply_customers(conn, tenant, records)
        if any(r.data["customerId"] == "late-poison" for r in records):
            raise ZeroDivisionError("a bug found after the rows were written")
        return outcomes

    add_operation(monkeypatch, "late", CUSTOMERS.schema, fail_after_upserting,
                  unique_field="customerId")
    services = make_services(CHUNK_SIZE="10")
    job_id = submit_job(services, db_tenant,
                        [customer("late-1"), customer("late-poison"), customer("late-2")], "late")
    for chunk_no in engine.start_job(services, job_id):
        engine.apply_chunk(services, job_id, chunk_no)
    with services.db.transaction() as conn:
        [chunk] = engine.jobs.done_chunks(conn, job_id)
    assert [(s["customerId"], s["message"]) for s in chunk.successful] == [
        ("late-1", CREATED), ("late-2", CREATED)]
    assert [f["customerId"] for f in chunk.failed] == ["late-poison"]
    stored = db.execute("SELECT customer_id FROM customers WHERE tenant_id = %s ORDER BY 1",
                        (db_tenant,)).fetchall()
    assert stored == [("late-1",), ("late-2",)]


def test_both_shapes_update_one_flat_profile(make_services, db_tenant, db):
    services = make_services()
    context = ChunkContext(db_tenant, 1, services.config)
    seed_shaped = customer("shapes", custom={"color": "blue"}, tags=["a"])
    document_shaped = {"customerId": "shapes", "deviceToken": "tok", "customerAttributes": {
        "firstName": "Ann", "city": "Cairo", "custom": {"tier": "gold"}, "tags": ["b"],
        "totalSpent": 10, "lastOrderDate": "2024-10-16T08:13:29.290Z", "utms": ["utm_source=x"]}}
    with services.db.transaction() as conn:
        apply_customers(conn, context, [valid(0, seed_shaped)])
        [updated] = apply_customers(conn, context, [valid(0, document_shaped)])
    assert updated.message == UPDATED
    profile = db.execute("SELECT profile FROM customers WHERE tenant_id = %s AND customer_id = %s",
                         (db_tenant, "shapes")).fetchone()[0]
    assert "customerAttributes" not in profile
    assert {k: profile[k] for k in ("name", "firstName", "city", "deviceToken", "tags", "custom",
                                    "totalSpent", "utms", "lastOrderDate")} == {
        "name": "Customer shapes", "firstName": "Ann", "city": "Cairo", "deviceToken": "tok",
        "tags": ["b"], "custom": {"color": "blue", "tier": "gold"}, "totalSpent": 10,
        "utms": ["utm_source=x"], "lastOrderDate": "2024-10-16T08:13:29.290000+00:00"}
