"""The body of GET /batch/operations: each operation and what its records look like."""

from __future__ import annotations

from marshmallow import Schema, fields


class OperationSchema(Schema):
    """One batch operation."""

    name = fields.String(required=True, metadata={"description": "The path segment."})
    path = fields.String(required=True)
    title = fields.String(required=True, metadata={"description": "The job's `operation`."})
    unknownCustomer = fields.String(required=True)
    idempotencyKey = fields.String(required=True)
    recordSchema = fields.Dict(required=True, metadata={
        "description": "A JSON schema (OpenAPI 3 dialect) of one record."})


class OperationListSchema(Schema):
    """Every batch operation this service runs."""

    operations = fields.List(fields.Nested(OperationSchema), required=True)
