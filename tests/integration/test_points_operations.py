"""The six operations beside customers, end to end: HTTP API, Celery worker, PostgreSQL, Redis.

Each test submits valid and invalid records of one operation and checks every record's
outcome, the job's title and counts, and what PostgreSQL holds afterwards.
"""

from __future__ import annotations

import pytest

from schemas.customers import CustomerBalanceSchema
from schemas.jobs import JobStatusSchema
from tests.support.cli import flask
from tests.support.factories import customer

WHEN = "2025-03-14T10:00:00Z"


def run(api, operation: str, records: list) -> tuple[dict, dict[int, dict]]:
    """Submit ``records``, wait for the job; return its body and outcomes by index."""
    return run_existing(api, api.submit(records, operation), len(records))


def run_existing(api, job_id: int, count: int) -> tuple[dict, dict[int, dict]]:
    """Wait for job ``job_id`` of ``count`` records; return its body and outcomes by index."""
    body = api.wait(job_id)
    assert JobStatusSchema().validate(body) == {}
    assert (body["status"], body["totalCount"]) == ("completed", count)
    assert body["finishedCount"] + body["errorCount"] == count
    entries = body["response"]["successful"] + body["response"]["failed"]
    return body, {entry["index"]: entry for entry in entries}


def seed_customers(api, *ids: str) -> None:
    _, outcomes = run(api, "customers", [customer(i) for i in ids])
    assert all("error" not in o for o in outcomes.values())


def balance(db, tenant_id: int, customer_id: str) -> tuple[int, int]:
    """Return (summary balance, ledger sum) of one customer."""
    summary = db.execute("SELECT available FROM points_balances WHERE tenant_id = %s"
                         " AND customer_id = %s", (tenant_id, customer_id)).fetchone()
    ledger = db.execute("SELECT coalesce(sum(points), 0) FROM points_ledger WHERE tenant_id = %s"
                        " AND customer_id = %s", (tenant_id, customer_id)).fetchone()[0]
    return (summary[0] if summary else 0), ledger


def test_orders_award_points_once_and_keep_their_customer(api, db):
    order = {"customerId": "o-1", "orderId": "A-1", "orderDate": WHEN, "totalPaid": 120.75,
             "totalTax": 5}
    body, outcomes = run(api, "orders", [
        order,
        {**order, "orderId": "A-2", "totalPaid": 30},
        {**order, "totalPaid": 99},                           # the same orderId again
        {**order, "orderId": "A-3", "orderDate": "2025-03-14T10:00:00"},  # no time zone
        {**order, "orderId": "A-4", "totalPaid": -1},
        {"customerId": "o-1", "orderId": "A-5", "orderDate": WHEN},
    ])
    assert body["operation"] == "Order Creation Batch Job"
    assert outcomes[0] == {"customerId": "o-1", "index": 0, "points": 120,
                           "message": "Order created successfully; 120 points awarded",
                           "balance": {"available": 120, "pending": 0}}
    assert outcomes[1]["points"] == 30 and outcomes[1]["balance"]["available"] == 150
    assert outcomes[2]["error"].startswith("orderId: Duplicate of the record at index 0")
    assert outcomes[3]["error"].startswith("orderDate: Has no time zone")
    assert outcomes[4]["error"] == "totalPaid: Must be greater than or equal to 0 and less than or equal to 1000000000000."
    assert outcomes[5]["error"] == "totalPaid: Missing data for required field."
    assert api.customer("o-1").status_code == 200   # created by its first order

    # Sent again in another job, with a new total: updated, not awarded again.
    _, again = run(api, "orders", [{**order, "totalPaid": 500},
                                   {**order, "orderId": "A-2", "customerId": "o-2"}])
    assert again[0]["message"] == "Order updated successfully; its points were awarded before"
    assert (again[0]["points"], again[0]["alreadyApplied"]) == (0, True)
    assert again[1]["error"] == ("orderId: Order 'A-2' belongs to another customer; "
                                 "an order's customer cannot change.")
    assert balance(db, api.tenant_id, "o-1") == (150, 150)
    stored = db.execute("SELECT total_paid, details FROM orders WHERE tenant_id = %s"
                        " AND order_id = 'A-1'", (api.tenant_id,)).fetchone()
    assert (float(stored[0]), stored[1]) == (500.0, {"totalTax": 5.0})


def test_events_are_stored_once_per_record(api, db):
    body, outcomes = run(api, "events", [
        {"customerId": "e-1", "events": {"purchase": {"sku": "X", "qty": 2}, "login": {}}},
        {"customerId": "e-1", "events": {"login": {}}},
        {"customerId": "e-2", "events": {}},
        {"customerId": "e-2", "events": {"login": "yes"}},
        {"customerId": "e-2", "events": [1]},
        {"customerId": "e-2", "events": {"login": {"device": {"os": "ios"}}}},
    ])
    assert body["operation"] == "Events Batch Job"
    assert outcomes[0] == {"customerId": "e-1", "index": 0, "events": 2,
                           "message": "2 event(s) recorded successfully"}
    assert outcomes[1]["events"] == 1
    assert outcomes[2]["error"] == "events: Must hold 1 to 50 events."
    assert outcomes[3]["error"] == "events.login.value: Must be an object of metadata."
    assert outcomes[4]["error"] == "events: Not a valid mapping type."
    assert outcomes[5]["error"].startswith("events.login.value.device.value: Must be a string")
    rows = db.execute("SELECT customer_id, event_name, metadata FROM customer_events"
                      " WHERE tenant_id = %s ORDER BY record_index, event_name",
                      (api.tenant_id,)).fetchall()
    assert rows == [("e-1", "login", {}), ("e-1", "purchase", {"sku": "X", "qty": 2}), ("e-1", "login", {})]
    assert api.customer("e-2").status_code == 404  # its records all failed: not created


def test_balance_adjustments_never_go_below_zero(api, db):
    seed_customers(api, "a-1")
    body, outcomes = run(api, "balance-adjustment", [
        {"customerId": "a-1", "amount": 100, "reason": "welcome"},
        {"customerId": "a-1", "amount": -30},
        {"customerId": "a-1", "amount": -80},
        {"customerId": "a-1", "amount": 0},
        {"customerId": "a-1", "amount": 1.5},
        {"customerId": "nobody", "amount": 10},
        {"customerId": "a-1", "amount": 5, "transactionId": "fix-1"},
        {"customerId": "a-1", "amount": 5, "transactionId": "fix-1"},
    ])
    assert body["operation"] == "Balance Adjustment Batch Job"
    assert outcomes[0]["message"] == "Balance adjusted successfully by +100 points"
    assert outcomes[1]["balance"] == {"available": 70, "pending": 0}
    assert outcomes[2]["error"] == "amount: Insufficient balance: 80 points needed, 70 available."
    assert outcomes[3]["error"] == "amount: Must not be zero."
    assert outcomes[4]["error"] == "amount: Not a valid number of points; expected a whole number."
    assert outcomes[5]["error"] == ("customerId: No customer 'nobody'; create it first "
                                    "(POST /batch/customers).")
    assert outcomes[6]["points"] == 5
    # A transactionId applied already fails the record with Gameball's 9004; nothing twice.
    assert outcomes[7]["code"] == 9004
    assert outcomes[7]["error"].startswith("transactionId: Already applied: this adjustment "
                                           "(transactionId 'fix-1')")
    assert [outcomes[i]["code"] for i in (2, 3, 5)] == [9008, 3003, 7000]
    assert balance(db, api.tenant_id, "a-1") == (75, 75)
    reasons = db.execute("SELECT reason FROM points_ledger WHERE tenant_id = %s ORDER BY id",
                         (api.tenant_id,)).fetchall()
    assert reasons == [("welcome",), (None,), (None,)]


def test_cashback_once_per_transaction_across_jobs(api, db, make_tenant):
    purchase = {"customerId": "c-1", "transactionId": "T-1", "transactionTime": WHEN,
                "amount": 49.99, "email": "c1@example.com"}
    body, outcomes = run(api, "cashback", [
        purchase,
        purchase,                                            # in the same request
        {**purchase, "customerId": "c-2"},                   # the same id, another customer
        {**purchase, "transactionId": "T-2", "amount": "10"},
        {**purchase, "transactionId": "T-3", "transactionTime": "yesterday"},
    ])
    assert body["operation"] == "Cashback Batch Job"
    assert outcomes[0]["message"] == "Cashback awarded successfully: 49 points"
    assert outcomes[1] == {
        "customerId": "c-1", "index": 1, "code": 9004,
        "error": "transactionId: Already applied: this cashback (transactionId 'T-1') was "
                 f"applied by record 0 of job {body['jobId']}; each transactionId applies once, "
                 "so this record changed nothing."}
    assert outcomes[2]["error"].startswith("transactionId: Already used by another cashback "
                                           "(customer 'c-1', 49 points)")
    assert outcomes[3]["error"] == "amount: Not a valid amount; expected a JSON number."
    assert outcomes[4]["error"].startswith("transactionTime: Not a valid date-time")
    assert [outcomes[i]["code"] for i in (2, 3, 4)] == [9004, 3003, 9007]

    _, again = run(api, "cashback", [purchase])               # in another job
    assert again[0]["code"] == 9004
    assert balance(db, api.tenant_id, "c-1") == (49, 49)
    assert api.customer("c-1").status_code == 200


def test_redemptions_by_points_or_amount_with_the_tenants_rates(api, db, database_url, redis_url):
    name = db.execute("SELECT name FROM tenants WHERE id = %s", (api.tenant_id,)).fetchone()[0]
    changed = flask(database_url, redis_url, "tenants", "points-rule", name,
                    "--earning-rate", "2", "--redemption-rate", "10")
    assert changed.returncode == 0, changed.stderr
    assert "earning rate:    2 points per unit" in changed.stdout
    _, earned = run(api, "cashback", [{"customerId": "r-1", "transactionId": "buy",
                                       "transactionTime": WHEN, "amount": 100.5}])
    assert earned[0]["points"] == 201                       # 2 points per unit, rounded down

    body, outcomes = run(api, "redeem", [
        {"customerId": "r-1", "transactionId": "R-1", "points": 50, "holdReference": "H-9"},
        {"customerId": "r-1", "transactionId": "R-2", "amount": 10.01},
        {"customerId": "r-1", "transactionId": "R-3", "points": 100},
        {"customerId": "r-1", "transactionId": "R-1", "points": 50},
        {"customerId": "r-1", "transactionId": "R-4"},
        {"customerId": "r-1", "transactionId": "R-5", "points": 0},
        {"customerId": "ghost", "transactionId": "R-6", "points": 1},
    ])
    assert body["operation"] == "Redemption Batch Job"
    assert outcomes[0] == {"customerId": "r-1", "index": 0, "points": -50,
                           "message": "Points redeemed successfully: 50 points",
                           "balance": {"available": 151, "pending": 0}}
    assert outcomes[1]["points"] == -101                    # 10 points per unit, rounded up
    assert outcomes[2]["error"] == "points: Insufficient balance: 100 points needed, 50 available."
    assert outcomes[3]["code"] == 9004
    assert outcomes[4]["error"] == "points: Give exactly one of points and amount."
    assert outcomes[5]["error"].startswith("points: Must be greater than or equal to 1")
    assert outcomes[6]["error"].startswith("customerId: No customer 'ghost'")
    assert balance(db, api.tenant_id, "r-1") == (50, 50)


def test_a_customers_balance_is_read_in_points_and_money(api, other_api, db, database_url,
                                                        redis_url):
    name = db.execute("SELECT name FROM tenants WHERE id = %s", (api.tenant_id,)).fetchone()[0]
    changed = flask(database_url, redis_url, "tenants", "points-rule", name,
                    "--redemption-rate", "3")
    assert changed.returncode == 0, changed.stderr
    seed_customers(api, "v-2")
    run(api, "cashback", [{"customerId": "v-1", "transactionId": "v-buy",
                           "transactionTime": WHEN, "amount": 100}])

    response = api.request("GET", "/customers/v-1/balance")
    assert response.status_code == 200
    assert CustomerBalanceSchema().validate(response.json()) == {}
    # 100 points at 3 points per unit: 33.33, rounded down to the cent.
    assert response.json() == {"totalPointsBalance": 100, "totalPointsValue": 33.33,
                               "availablePointsBalance": 100, "availablePointsValue": 33.33,
                               "pendingPoints": 0, "pendingPointsValue": 0.0}
    assert api.request("GET", "/customers/v-2/balance").json()["totalPointsBalance"] == 0
    for client, customer_id in ((api, "nobody"), (other_api, "v-1")):
        missing = client.request("GET", f"/customers/{customer_id}/balance")
        assert (missing.status_code, missing.json()["code"]) == (404, 7000)


def test_order_transactions_list_each_orders_payment_points_and_ledger_entries(api, other_api):
    run(api, "orders", [{"customerId": "t-1", "orderId": "ORD-1", "orderDate": WHEN,
                         "totalPaid": 120.5}])
    run(api, "cashback", [
        {"customerId": "t-1", "transactionId": "ORD-1", "transactionTime": "2025-03-15T09:00:00Z",
         "amount": 10},
        {"customerId": "t-2", "transactionId": "CB-ONLY", "transactionTime": WHEN, "amount": 3.5}])
    run(api, "redeem", [{"customerId": "t-1", "transactionId": "ORD-1", "points": 30}])
    run(api, "balance-adjustment", [{"customerId": "t-1", "amount": 5, "reason": "goodwill",
                                     "transactionId": "ORD-1"}])
    other_api.wait(other_api.submit([{"customerId": "x", "orderId": "THEIRS",
                                      "orderDate": WHEN, "totalPaid": 1}], "orders"))

    response = api.request("POST", "/batch/orders/transactions",
                           json={"body": ["ORD-1", "CB-ONLY", "NOPE", "THEIRS", " ", "ORD-1"]})
    assert response.status_code == 200
    body, outcomes = run_existing(api, response.json()["jobId"], 6)
    assert body["operation"] == "Order Transactions Batch Job"
    order = outcomes[0]
    assert (order["orderId"], order["message"]) == ("ORD-1", "Order transactions retrieved "
                                                              "successfully")
    assert "customerId" not in order
    assert [{k: t[k] for k in ("type", "customerId", "amount", "points", "reason", "time")}
            for t in order["transactions"]] == [
        {"type": "payment", "customerId": "t-1", "amount": 120.5, "points": None,
         "reason": None, "time": "2025-03-14T10:00:00.000Z"},
        {"type": "reward", "customerId": "t-1", "amount": 120.5, "points": 120,
         "reason": None, "time": "2025-03-14T10:00:00.000Z"},
        {"type": "cashback", "customerId": "t-1", "amount": 10.0, "points": 10,
         "reason": None, "time": "2025-03-15T09:00:00.000Z"},
        {"type": "redemption", "customerId": "t-1", "amount": None, "points": -30,
         "reason": None, "time": None},
        {"type": "adjustment", "customerId": "t-1", "amount": None, "points": 5,
         "reason": "goodwill", "time": None}]
    assert all(t["recordedAt"].endswith("Z") for t in order["transactions"])
    assert outcomes[5]["transactions"] == order["transactions"]  # a read: asked twice, the same
    assert [t["type"] for t in outcomes[1]["transactions"]] == ["cashback"]
    for index, order_id in ((2, "NOPE"), (3, "THEIRS")):
        assert (outcomes[index]["orderId"], outcomes[index]["code"]) == (order_id, 9002)
        assert outcomes[index]["error"].startswith(f"orderId: No order '{order_id}'")
    assert (outcomes[4]["code"], outcomes[4]["error"]) == (3003, "orderId: Must not be blank.")

    status = api.request("GET", f"/batches/{body['jobId']}/status").json()
    assert (status["status"], status["failedItems"], len(status["results"])) == ("completed", 3, 3)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"body": [{"orderId": "ORD-1"}]}, 400, 3016),
    ({"body": ["ORD-1", 7]}, 400, 3016),
    ({"body": []}, 400, 3016),
    ({"orders": ["ORD-1"]}, 400, 3000),
    ({"body": ["ORD"] * 1001}, 422, 3011),
])
def test_order_transactions_take_1_to_1000_strings(api, body, status, code):
    response = api.request("POST", "/batch/orders/transactions", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_balance_inquiry_reads_without_changing(api, db):
    seed_customers(api, "b-1", "b-2")
    run(api, "balance-adjustment", [{"customerId": "b-1", "amount": 42}])
    body, outcomes = run(api, "balance-inquiry", [
        {"customerId": "b-1"}, {"customerId": "b-2"}, {"customerId": "b-3"},
        {"customerId": "b-1", "amount": 1}])
    assert body["operation"] == "Balance Inquiry Batch Job"
    assert outcomes[0] == {"customerId": "b-1", "index": 0,
                           "message": "Balance retrieved successfully",
                           "balance": {"available": 42, "pending": 0}}
    assert outcomes[1]["balance"] == {"available": 0, "pending": 0}
    assert outcomes[2]["error"].startswith("customerId: No customer 'b-3'")
    assert outcomes[3]["error"] == "amount: Unknown field."
    assert balance(db, api.tenant_id, "b-1") == (42, 42)


def test_operations_are_listed_with_their_record_schemas(api, other_api):
    response = api.request("GET", "/batch/operations")
    assert response.status_code == 200
    listed = {op["name"]: op for op in response.json()["operations"]}
    assert sorted(listed) == ["balance-adjustment", "balance-inquiry", "cashback", "customers",
                              "events", "orders", "orders/transactions", "redeem"]
    assert listed["orders/transactions"]["path"] == "/api/v4.0/integrations/batch/orders/transactions"
    assert listed["orders/transactions"]["recordSchema"] == {
        "type": "string", "minLength": 1, "maxLength": 128, "pattern": ".*\\S",
        "description": listed["orders/transactions"]["recordSchema"]["description"]}
    assert listed["redeem"]["path"] == "/api/v4.0/integrations/batch/redeem"
    assert listed["events"]["title"] == "Events Batch Job"
    assert listed["orders"]["recordSchema"]["required"] == ["customerId", "orderDate", "orderId",
                                                            "totalPaid"]
    assert listed["cashback"]["recordSchema"]["properties"]["amount"]["type"] == "number"
    assert "fails" in listed["redeem"]["unknownCustomer"]
    assert api.request("GET", "/batch/operations", headers={"SecretKey": "wrong"}).status_code == 401
    # Another tenant's jobs are still out of reach under the same prefix.
    job_id = api.submit([{"customerId": "x"}], "balance-inquiry")
    assert other_api.request("GET", f"/batch/{job_id}").status_code == 404
