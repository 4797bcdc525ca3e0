"""Response bodies of the multi-part upload endpoints (docs/bulk.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.jobs import STATUSES

FORMATS = ("ndjson", "csv")


class UploadOpenedSchema(Schema):
    """The answer to opening a multi-part upload: the job's id, ``open``."""

    jobId = fields.Integer(required=True, metadata={
        "description": "The job's id: its parts go to PUT /batch/{jobId}/parts/{n}."})
    status = fields.String(required=True, validate=validate.OneOf(["open"]))


class PartSchema(Schema):
    """A stored part: its number, format, what it holds, and the SHA-256 of its bytes."""

    part = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    records = fields.Integer(required=True, metadata={
        "description": "Records in the part (lines or rows, blank ones not counted)."})
    bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={
        "description": "The SHA-256 of the part's bytes as received, in hex: compare it with "
                       "your own to know the part arrived whole."})


class StoredPartSchema(PartSchema):
    """The answer to storing a part."""

    jobId = fields.Integer(required=True)


class PartsSchema(Schema):
    """The parts an upload holds, in part order: what a resumed upload need not send again."""

    jobId = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    parts = fields.List(fields.Nested(PartSchema), required=True)


class UploadClosedSchema(Schema):
    """The answer to closing an upload: the job, queued, and how many records it holds."""

    jobId = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={
        "description": "queued once closed (or the status it reached since, closed again)."})
    totalCount = fields.Integer(required=True, metadata={
        "description": "Records across the parts, numbered from 0 in part order."})
