"""The catalogue of batch operations, with their record schemas, for clients to discover."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, url_for
from marshmallow import Schema

from app.catalogue import OPERATIONS, Operation
from app.services import current_services
from app.web.auth import authenticate_request
from app.web.jsonio import json_response
from app.web.openapi import OPENAPI_VERSION, documented
from schemas.envelope import OBJECT_RECORDS
from schemas.operations import OperationListSchema

operations_bp = Blueprint("operations", __name__, url_prefix="/api/v4.0/integrations")


@operations_bp.get("/batch/operations")
@documented(
    "List the batch operations and their record schemas",
    responses={200: OperationListSchema},
    tags=("batch",),
)
def list_operations() -> Response:
    """Return every registered operation: path, job title, rules and record schema."""
    authenticate_request(current_services())
    catalogue = current_app.extensions.get("batchq-operations")
    if catalogue is None:
        catalogue = current_app.extensions["batchq-operations"] = _catalogue()
    return json_response(catalogue)


def _catalogue() -> dict:
    return {"operations": [
        {"name": name, "path": url_for("batch.submit_job", operation=name),
         "title": op.title, "unknownCustomer": op.unknown_customer,
         "idempotencyKey": op.idempotency_key, "recordSchema": _record_schema(op)}
        for name, op in OPERATIONS.items()]}


def _record_schema(operation: Operation) -> dict:
    """Return one record's JSON schema: its object's, or its key's for records that are ids."""
    schema = record_json_schema(operation.schema)
    if operation.record_type != OBJECT_RECORDS:
        return schema["properties"][operation.key_field]
    return schema


def record_json_schema(schema: Schema) -> dict:
    """Return ``schema`` as a JSON schema, as the OpenAPI document describes it."""
    plugin = MarshmallowPlugin()
    APISpec("records", "1", OPENAPI_VERSION, plugins=[plugin])
    return plugin.converter.schema2jsonschema(schema)
