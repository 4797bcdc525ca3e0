"""Celery, built in exactly one place from the application's configuration.

Tasks run inside the Flask application context, so they reach the same services (pool,
Redis, configuration) as the web process. Every line a task logs carries its job and chunk
(``app.observability.logs``).

The broker is Redis or RabbitMQ (``BROKER_URL``). On RabbitMQ the queues are durable quorum
queues (replicated, and a lost consumer's unacknowledged messages come back at once), bound to
topic exchanges so that a countdown (a retry's backoff) uses Native Delayed Delivery: the
broker holds the message until it is due, where Redis makes a worker hold it unacknowledged.
"""

from __future__ import annotations

import inspect

from celery import Celery, Task
from flask import Flask
from kombu import Exchange, Queue

from app.config import Config
from app.messaging.queue import DELIVER_CALLBACK, PURGE_RESULTS, SWEEP_JOBS, task_context
from app.observability import logs

# Task arguments that become log context fields.
_LOGGED_ARGUMENTS = {"job_id": "jobId", "chunk_no": "chunk"}


def celery_init_app(app: Flask, config: Config) -> Celery:
    """Create the Celery app for ``app`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            context = _log_context(self, args, kwargs)
            with app.app_context(), logs.bound(taskId=self.request.id, **context):
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=["workers.tasks"])
    celery.conf.update(celery_settings(config))
    celery.set_default()
    app.extensions["celery"] = celery
    # Celery's worker logs a task's arrival and end outside the task: its id names the job.
    logs.describe_tasks_with(task_context)
    return celery


def uses_amqp(broker_url: str) -> bool:
    """Tell whether ``broker_url`` names RabbitMQ (AMQP) rather than Redis."""
    return broker_url.split("://", 1)[0] in ("amqp", "amqps", "pyamqp")


def task_queues(config: Config) -> list[Queue]:
    """Return the queues the workers consume: the jobs' and chunks', the bulk jobs' and their
    chunks', then the webhooks'."""
    names = dict.fromkeys((config.CELERY_QUEUE, config.BULK_QUEUE, config.WEBHOOK_QUEUE))
    if not uses_amqp(config.BROKER_URL):
        return [Queue(name) for name in names]
    # Native Delayed Delivery routes a countdown through topic exchanges only; Celery turns
    # it on (and global QoS off) when it sees a queue declared as a quorum queue.
    return [Queue(name, Exchange(name, type="topic"), routing_key=name, durable=True,
                  queue_arguments={"x-queue-type": "quorum"}) for name in names]


def broker_transport_options(config: Config) -> dict:
    """Return the transport's options: how long to wait on a broker gone silent."""
    timeout = config.BROKER_TIMEOUT_SECONDS
    if uses_amqp(config.BROKER_URL):
        # Publisher confirms: a message is sent once RabbitMQ has it (on a quorum queue,
        # once a majority has written it), and a publish to a broker gone silent fails
        # after the confirm timeout (app.messaging.queue) rather than vanishing.
        return {"confirm_publish": True}
    # Without timeouts a command on a connection whose broker vanished (a cut link, not a
    # refused one) waits for ever; the health check finds a dead consumer connection.
    return {"visibility_timeout": config.BROKER_VISIBILITY_TIMEOUT,
            "socket_timeout": timeout, "socket_connect_timeout": timeout,
            "socket_keepalive": True, "health_check_interval": config.BROKER_HEARTBEAT_SECONDS}


def celery_settings(config: Config) -> dict:
    """Return Celery's settings, derived from the configuration."""
    amqp = uses_amqp(config.BROKER_URL)
    return {
        "broker_url": config.BROKER_URL,
        "broker_transport_options": broker_transport_options(config),
        # One visibility timeout for the broker and (should one be configured) the results:
        # Celery's Redis docs warn that differing values redeliver at the shorter one.
        "result_backend_transport_options": {
            "visibility_timeout": config.BROKER_VISIBILITY_TIMEOUT},
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": config.BROKER_TIMEOUT_SECONDS,
        # AMQP heartbeats both ways: RabbitMQ requeues a lost worker's messages and the
        # worker reconnects once the connection has been silent about twice this long.
        "broker_heartbeat": config.BROKER_HEARTBEAT_SECONDS if amqp else 0,
        # A worker's remote-control queue (pings, Flower, `celery control`) is not exclusive
        # to its connection: a worker cut off from RabbitMQ reconnects as soon as its link
        # is back, often before the server has given up on the old connection, and declaring
        # an exclusive queue the old one still holds fails (RESOURCE_LOCKED), which Celery
        # takes for an unrecoverable error: the worker exits. Not exclusive, the queue still
        # goes 10 s after its last consumer (control_queue_expires).
        "control_queue_exclusive": not amqp,
        # Results live in PostgreSQL; Celery's result backend would be a second copy.
        "task_ignore_result": True,
        # The (disabled) result backend is then built once per process, not once per
        # thread: building it scans every installed package's entry points, inside
        # whichever request came first on each of gunicorn's threads.
        "result_backend_thread_safe": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": config.CELERY_QUEUE,
        # A worker started without -Q consumes every queue listed here, taking from them in
        # turn (kombu rotates the queues it polls after each message): interactive jobs,
        # bulk chunks, webhooks. Bulk chunks have their own queue so that a job submitted
        # meanwhile waits for one chunk, not for a bulk job's thousands; webhooks have
        # theirs, so `celery worker -Q callbacks` can serve them apart.
        "task_queues": task_queues(config),
        "task_default_exchange_type": "topic" if amqp else "direct",
        "task_default_queue_type": "quorum" if amqp else "classic",
        "task_routes": {DELIVER_CALLBACK: {"queue": config.WEBHOOK_QUEUE}},
        # A message is acknowledged only once its chunk is committed, and given back
        # when the process running it dies: chunks are idempotent, loss is not.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # No task events unless someone watches: Flower turns them on in every worker
        # while it runs (its enable_events, every 5 s), `celery worker -E` forces them.
        # Otherwise each task would cost three Redis publishes nobody reads. Never a
        # "sent" event: one more publish inside every POST, and the queue's length
        # (what it would show) is in /metrics and Flower anyway.
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "worker_hijack_root_logger": False,
        "beat_schedule": beat_schedule(config),
        # Beat keeps its schedule in memory: a lost run is repeated by the next one, so
        # a schedule file would only be shared state between beat processes.
        "beat_scheduler": "celery.beat:Scheduler",
    }


def beat_schedule(config: Config) -> dict:
    """Return the periodic tasks Celery beat sends: one line per task."""
    return {
        "sweep-jobs": _every(SWEEP_JOBS, config.SWEEP_INTERVAL_SECONDS),
        "purge-results": _every(PURGE_RESULTS, config.PURGE_INTERVAL_SECONDS),
    }


def _every(task: str, seconds: int) -> dict:
    """Return a beat entry sending ``task`` every ``seconds``; unrun copies expire."""
    # While no worker runs, beat keeps sending: expiring each message after one period
    # keeps those from piling up into a burst of identical runs once workers return.
    return {"task": task, "schedule": float(seconds), "options": {"expires": seconds}}


def _log_context(task: Task, args: tuple, kwargs: dict) -> dict:
    """Return the log context fields named by a task's arguments (its job, its chunk)."""
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {}
    return {field: bound[name] for name, field in _LOGGED_ARGUMENTS.items() if name in bound}
