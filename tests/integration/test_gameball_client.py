"""A client generated from Gameball's own published OpenAPI document, unchanged, against the
real service: every batch operation, status by both paths, and a stop.

This is what a Gameball customer's code does: generate a client from the document
(tests/support/gameball_client.py), point it at a Gameball-compatible host, call it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.support.client import ApiClient
from tests.support.gameball_client import batch_api, generate_client
from tests.support.service import wait_until

pytestmark = pytest.mark.contract

WHEN = datetime(2025, 3, 14, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def gameball(tmp_path_factory):
    """The generated client package, generated once for this module."""
    return generate_client(tmp_path_factory.mktemp("gameball-client"))


@pytest.fixture
def client(gameball, api):
    """The generated API for the ``api`` fixture's tenant."""
    return batch_api(gameball, api.base_url, api.api_key, api.secret_key)


def finished(client, job_id) -> object:
    """Poll the document's status path until the job has ended; return the generated model."""
    def ended():
        status = client.get_batches_batch_id_status(str(job_id))
        return status if status.status in ("completed", "failed") else None
    return wait_until(ended, timeout=60, interval=0.1, what=f"job {job_id} to end")


def run(client, api: ApiClient, call, request) -> tuple[object, dict]:
    """Submit through the generated client; return the document's status and the tutorial's."""
    created = call(request)
    job_id = created.job_id
    assert isinstance(job_id, int) and job_id > 0  # the document's jobId: a number
    status = finished(client, job_id)
    tutorial = api.job(job_id)  # the tutorial's path, on the same job
    assert status.batch_id == str(job_id) == str(tutorial["jobId"])
    assert (status.total_items, status.processed_items, status.failed_items) == (
        tutorial["totalCount"], tutorial["finishedCount"] + tutorial["errorCount"],
        tutorial["errorCount"])
    return status, tutorial


def test_every_batch_operation_through_the_generated_client(gameball, client, api):
    models = gameball.models
    customers = models.PostBatchCustomersRequest(body=[
        models.PostBatchCustomersRequestBodyInner(
            customer_id="gb-1", email="gb1@example.com", mobile="+15550001", device_token="dt-1",
            os_type="ios", referrer_code="REF-9", guest=False,
            customer_attributes=models.PostBatchCustomersRequestBodyInnerCustomerAttributes(
                display_name="Gee Bee", first_name="Gee", last_name="Bee", gender="M",
                date_of_birth="1990-01-01", join_date="2022-01-01", country="EG", city="Cairo",
                zip="11511", preferred_language="en", source="app",
                utms=[{"campaign": "spring"}], devices=["iphone"], payment_methods=["card"],
                total_spent=120.5, last_order_date="2025-03-01T10:00:00Z", total_orders=3,
                avg_order_amount=40.17, channel="mobile", custom={"tier": "gold"})),
        models.PostBatchCustomersRequestBodyInner(customer_id="gb-2")])
    status, _ = run(client, api, client.post_batch_customers, customers)
    assert (status.status, status.progress, status.failed_items) == ("completed", 100, 0)
    stored = api.customer("gb-1").json()
    assert stored["customerAttributes"]["firstName"] == "Gee"
    assert stored["deviceToken"] == "dt-1" and isinstance(stored["gameballId"], int)

    orders = models.PostBatchOrdersRequest(body=[models.PostBatchOrdersRequestBodyInner(
        customer_id="gb-1", order_id="GB-ORDER-1", order_date=WHEN, total_paid=100)])
    assert run(client, api, client.post_batch_orders, orders)[0].failed_items == 0

    transactions = models.BatchOrderTransactionsRequest(body=["GB-ORDER-1", "GB-NO-ORDER"])
    status, _ = run(client, api, client.batch_order_transactions, transactions)
    assert [entry["orderId"] for entry in status.results] == ["GB-ORDER-1"]
    assert [entry["code"] for entry in status.errors] == [9002]

    cashback = models.PostBatchCashbackRequest(body=[models.PostBatchCashbackRequestBodyInner(
        customer_id="gb-1", transaction_id="GB-T-1", transaction_time=WHEN, amount=50)])
    assert run(client, api, client.post_batch_cashback, cashback)[0].failed_items == 0

    redeem = models.PostBatchRedeemRequest(body=[
        models.PostBatchRedeemRequestBodyInner(customer_id="gb-1", transaction_id="GB-R-1",
                                               transaction_time=WHEN, points=20),
        models.PostBatchRedeemRequestBodyInner(customer_id="gb-1", transaction_id="GB-R-1",
                                               transaction_time=WHEN, points=20)])
    status, _ = run(client, api, client.post_batch_redeem, redeem)
    assert [entry["code"] for entry in status.errors] == [9004]  # applied once, not twice

    adjustment = models.PostBatchBalanceAdjustmentRequest(body=[
        models.PostBatchBalanceAdjustmentRequestBodyInner(customer_id="gb-1", amount=-5,
                                                          reason="goodwill reversal"),
        models.PostBatchBalanceAdjustmentRequestBodyInner(customer_id="nobody", amount=5)])
    status, _ = run(client, api, client.post_batch_balance_adjustment, adjustment)
    assert [entry["code"] for entry in status.errors] == [7000]

    inquiry = models.PostBatchBalanceInquiryRequest(body=[
        models.PostBatchBalanceInquiryRequestBodyInner(customer_id="gb-1")])
    status, _ = run(client, api, client.post_batch_balance_inquiry, inquiry)
    # 100 for the order, 50 for the cashback, less 20 redeemed and 5 removed.
    assert status.results[0]["balance"]["available"] == 125

    events = models.PostBatchEventsRequest(body=[models.PostBatchEventsRequestBodyInner(
        customer_id="gb-1", events={"viewed_product": {"sku": "A-1"}})])
    assert run(client, api, client.post_batch_events, events)[0].failed_items == 0


def test_a_stop_and_its_status_through_the_generated_client(gameball, client, api,
                                                            paused_workers):
    models = gameball.models
    created = client.post_batch_customers(models.PostBatchCustomersRequest(body=[
        models.PostBatchCustomersRequestBodyInner(customer_id=f"gb-stop-{n}") for n in range(3)]))
    pending = client.get_batches_batch_id_status(str(created.job_id))
    assert (pending.status, pending.progress, pending.processed_items) == ("pending", 0, 0)

    stopped = client.post_batches_batch_id_stop(str(created.job_id))
    assert (stopped.batch_id, stopped.status) == (str(created.job_id), "completed")
    assert stopped.message.startswith("Batch stopped")
    assert api.job(created.job_id)["status"] == "stopped"
    after = client.get_batches_batch_id_status(str(created.job_id))
    assert (after.status, after.processed_items) == ("completed", 0)


def test_the_generated_client_reads_gameballs_error_envelope(gameball, client):
    with pytest.raises(gameball.ApiException) as refused:
        client.get_batches_batch_id_status("123")  # no such job
    assert refused.value.status == 404
    assert '"code":4004' in refused.value.body.replace(" ", "")
