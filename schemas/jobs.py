"""Response bodies of the job endpoints, as documented and as tested against."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

STATUSES = ("queued", "running", "completed", "failed", "stopped")


class BalanceSchema(Schema):
    """A customer's points balance."""

    available = fields.Integer(required=True)
    pending = fields.Integer(required=True)


class SuccessfulRecordSchema(Schema):
    """A record that was applied; the points operations add what it did to the balance."""

    customerId = fields.Raw(required=True)
    index = fields.Integer(required=True)
    message = fields.String(required=True)
    points = fields.Integer(metadata={"description": "The change this record made (0 if none)."})
    balance = fields.Nested(BalanceSchema, metadata={
        "description": "The customer's balance right after this record."})
    alreadyApplied = fields.Boolean(metadata={
        "description": "True when an earlier record applied this orderId or transactionId."})
    events = fields.Integer(metadata={"description": "How many events the record stored."})


class FailedRecordSchema(Schema):
    """A record that was not applied, and why."""

    customerId = fields.Raw(required=True, allow_none=True)
    index = fields.Integer(required=True)
    error = fields.String(required=True)


class JobResponseSchema(Schema):
    """The records' outcomes so far."""

    successful = fields.List(fields.Nested(SuccessfulRecordSchema), required=True)
    failed = fields.List(fields.Nested(FailedRecordSchema), required=True)


class JobStatusSchema(Schema):
    """A batch job's state: the fields of Gameball's status body, plus jobId and finishedAt."""

    jobId = fields.String(required=True)
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
    """The answer to a batch submission."""

    jobId = fields.String(required=True)
    status = fields.String(required=True)


class ErrorSchema(Schema):
    """The one shape of every error body."""

    code = fields.Integer(required=True)
    type = fields.String(required=True)
    message = fields.String(required=True)
    requestId = fields.String(required=True)
    errors = fields.Dict()
