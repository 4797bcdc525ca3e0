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


class WorkerHostSchema(Schema):
    """A machine running workers, as their heartbeats describe it."""

    host = fields.String(required=True, metadata={"description": "The machine's host name."})
    addresses = fields.List(fields.String(), required=True, metadata={
        "description": "The addresses PostgreSQL sees its workers connect from."})
    workers = fields.Integer(required=True, metadata={
        "description": "Celery workers beating on it now (0 once it is lost)."})
    processes = fields.Integer(required=True, metadata={
        "description": "Their pool processes, each applying one chunk at a time."})
    lastHeartbeat = fields.String(required=True, metadata={
        "description": "When one of its workers was last heard of (ISO 8601, UTC)."})
    state = fields.String(required=True, validate=validate.OneOf(["alive", "lost"]), metadata={
        "description": "lost: no heartbeat for WORKER_LOST_AFTER_SECONDS."})


class ReadySchema(Schema):
    """Whether PostgreSQL, Redis and the broker answer, how many Celery workers answer a ping,
    and every host running workers (listed for a day after it was last heard of)."""

    status = fields.String(required=True, validate=validate.OneOf(["ready", "unavailable"]))
    checks = fields.Nested(ReadyChecksSchema, required=True)
    workers = fields.Integer(required=True)
    hosts = fields.List(fields.Nested(WorkerHostSchema), required=True)
