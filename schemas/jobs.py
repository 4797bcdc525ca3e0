"""Response bodies of the job endpoints, as documented and as tested against."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

STATUSES = ("queued", "running", "completed", "failed", "stopped")
# The statuses of Gameball's published document (GET /batches/{batchId}/status).
DOCUMENT_STATUSES = ("pending", "processing", "completed", "failed")


class BalanceSchema(Schema):
    """A customer's points balance."""

    available = fields.Integer(required=True)
    pending = fields.Integer(required=True)


_CUSTOMER_ID = {"description": "The record's customerId (orders/transactions: orderId instead)."}
_ORDER_ID = {"description": "orders/transactions: the record, an orderId."}


class TransactionSchema(Schema):
    """One transaction of an order, as orders/transactions lists it."""

    type = fields.String(required=True, validate=validate.OneOf(
        ["payment", "reward", "cashback", "redemption", "adjustment"]), metadata={
        "description": "payment: the order's totalPaid; reward: the points the order earned; "
                       "the others: ledger entries whose transactionId is the orderId."})
    customerId = fields.String(required=True)
    amount = fields.Float(required=True, allow_none=True, metadata={
        "description": "The money: totalPaid, or the amount a cashback or redemption gave "
                       "(null for points given as points)."})
    points = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The change of the balance (null for the payment)."})
    reason = fields.String(required=True, allow_none=True)
    time = fields.String(required=True, allow_none=True, metadata={
        "description": "When it happened, as the record said (orderDate, transactionTime)."})
    recordedAt = fields.String(required=True, metadata={
        "description": "When this service stored it."})


class SuccessfulRecordSchema(Schema):
    """A record that was applied; the points operations add what it did to the balance."""

    customerId = fields.Raw(metadata=_CUSTOMER_ID)
    orderId = fields.Raw(metadata=_ORDER_ID)
    index = fields.Integer(required=True)
    message = fields.String(required=True)
    points = fields.Integer(metadata={"description": "The change this record made (0 if none)."})
    balance = fields.Nested(BalanceSchema, metadata={
        "description": "The customer's balance right after this record."})
    alreadyApplied = fields.Boolean(metadata={
        "description": "True when an earlier record applied this orderId or transactionId."})
    events = fields.Integer(metadata={"description": "How many events the record stored."})
    transactions = fields.List(fields.Nested(TransactionSchema), metadata={
        "description": "orders/transactions: the order's transactions, oldest first."})


class FailedRecordSchema(Schema):
    """A record that was not applied, and why."""

    customerId = fields.Raw(allow_none=True, metadata=_CUSTOMER_ID)
    orderId = fields.Raw(allow_none=True, metadata=_ORDER_ID)
    index = fields.Integer(required=True)
    error = fields.String(required=True)
    code = fields.Integer(metadata={
        "description": "The failure's error code: 3000 a field missing, 3003 a value not valid, "
                       "7000 no such customer, 9002 no such order, 9004 a transaction id "
                       "applied already, 9007 an invalid transaction time, 9008 insufficient "
                       "balance, ... (GET /docs/errors)."})


class JobResponseSchema(Schema):
    """The records' outcomes so far."""

    successful = fields.List(fields.Nested(SuccessfulRecordSchema), required=True)
    failed = fields.List(fields.Nested(FailedRecordSchema), required=True)


class JobStatusSchema(Schema):
    """A batch job's state: the fields of Gameball's status body, plus jobId and finishedAt."""

    jobId = fields.Integer(required=True)
    operation = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    totalCount = fields.Integer(required=True)
    finishedCount = fields.Integer(required=True)
    errorCount = fields.Integer(required=True)
    createdAt = fields.String(required=True)
    startedAt = fields.String(required=True, allow_none=True)
    finishedAt = fields.String(required=True, allow_none=True)
    response = fields.Nested(JobResponseSchema, required=True, allow_none=True)
    failureMessage = fields.String(allow_none=True)
    resultsPurgedAt = fields.String(metadata={
        "description": "Present once retention (RESULT_RETENTION_DAYS after the job ended) "
                       "removed the per-record outcomes: `response` is then null, the "
                       "counts stay."})


class JobCreatedSchema(Schema):
    """The answer to a batch submission: Gameball's ``jobId`` (a number), and ``status``."""

    jobId = fields.Integer(required=True, metadata={
        "description": "The job's id: a random positive integer below 2^53."})
    status = fields.String(required=True, validate=validate.OneOf(["queued"]))


class BatchStatusSchema(Schema):
    """A job's state as Gameball's published document words it
    (``GET /batches/{batchId}/status``)."""

    batchId = fields.String(required=True, metadata={"description": "The jobId, as a string."})
    status = fields.String(required=True, validate=validate.OneOf(DOCUMENT_STATUSES), metadata={
        "description": "queued is pending, running is processing; a stopped job is completed "
                       "with `stopped: true`."})
    stopped = fields.Boolean(metadata={"description": "Present (true) for a stopped job."})
    progress = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    totalItems = fields.Integer(required=True)
    processedItems = fields.Integer(required=True, metadata={
        "description": "Records with an outcome, applied or failed."})
    failedItems = fields.Integer(required=True)
    results = fields.List(fields.Nested(SuccessfulRecordSchema), required=True)
    errors = fields.List(fields.Nested(FailedRecordSchema), required=True)


class BatchStoppedSchema(Schema):
    """The answer to ``POST /batches/{batchId}/stop``."""

    batchId = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DOCUMENT_STATUSES))
    stopped = fields.Boolean(required=True)
    message = fields.String(required=True)


class ErrorSchema(Schema):
    """The one shape of every error body: Gameball's envelope, with ``errors`` by field."""

    code = fields.Integer(required=True, metadata={
        "description": "Gameball's published code for the case, or one of ours (GET /docs/errors)."})
    type = fields.String(required=True)
    message = fields.String(required=True)
    documentationUrl = fields.String(required=True, metadata={
        "description": "This service's table of error codes, at this code."})
    requestId = fields.String(required=True)
    errors = fields.Dict()
