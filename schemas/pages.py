"""Response bodies of the paged client endpoints: the job listing and the results pages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.jobs import STATUSES, FailedRecordSchema, JobStatusSchema, SuccessfulRecordSchema

_NEXT_CURSOR = {"required": True, "allow_none": True,
                "metadata": {"description": "Pass as `cursor` for the next page; null on the last."}}


class JobSummarySchema(JobStatusSchema):
    """A job as the listing shows it: its status body without the records' outcomes."""

    class Meta:
        exclude = ("response",)


class JobPageSchema(Schema):
    """A page of the caller's jobs, newest first."""

    jobs = fields.List(fields.Nested(JobSummarySchema), required=True)
    nextCursor = fields.String(**_NEXT_CURSOR)


class _OutcomesPageSchema(Schema):
    jobId = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES),
                           metadata={"description": "The list is complete once the job ended."})
    nextCursor = fields.String(**_NEXT_CURSOR)
    resultsPurgedAt = fields.String(metadata={
        "description": "Present once retention removed the job's per-record outcomes: the "
                       "list is then empty; the job's counts stay in its status."})


class FailedPageSchema(_OutcomesPageSchema):
    """A page of the job's failed records, in record order."""

    failed = fields.List(fields.Nested(FailedRecordSchema), required=True)


class SuccessfulPageSchema(_OutcomesPageSchema):
    """A page of the job's applied records, in record order."""

    successful = fields.List(fields.Nested(SuccessfulRecordSchema), required=True)
