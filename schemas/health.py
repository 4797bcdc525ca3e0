"""Response bodies of the liveness and readiness probes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class LiveSchema(Schema):
    """The process serves requests."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadyChecksSchema(Schema):
    """Each dependency: "ok" or why it is unavailable."""

    postgres = fields.String(required=True)
    redis = fields.String(required=True)
    broker = fields.String(required=True, metadata={
        "description": "Celery's broker (BROKER_URL): RabbitMQ, or the Redis above."})


class ReadySchema(Schema):
    """Whether PostgreSQL, Redis and the broker answer, and how many Celery workers answer a
    ping."""

    status = fields.String(required=True, validate=validate.OneOf(["ready", "unavailable"]))
    checks = fields.Nested(ReadyChecksSchema, required=True)
    workers = fields.Integer(required=True)
