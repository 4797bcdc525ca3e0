"""What a Celery worker process does around its tasks: serve its machine's metrics, beat its
heartbeat (``app.runtime.heartbeat``), let go of a dead pool process's metric files, and
(``WARM_START``) keep the garbage collector off what each pool process inherited.

Connected to Celery's signals once per process, whatever it is: the signals only fire in a
``celery worker``, so the web and Flower are unaffected.
"""

from __future__ import annotations

import os

from celery.signals import (
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from app.observability import metrics
from app.runtime.gc_freeze import freeze_startup_objects
from app.runtime.heartbeat import Heartbeat
from app.services import Services


def connect_worker_signals(services: Services) -> None:
    """Connect the worker's start-up and shut-down steps for ``services``."""
    config = services.config
    port, warm_start = config.WORKER_METRICS_PORT, config.WARM_START
    beating: list[Heartbeat] = []

    def serve_metrics(**_: object) -> None:
        if port:
            metrics.serve_worker_metrics(port)

    def start_heartbeat(sender, **_: object) -> None:
        heartbeat = Heartbeat(services.db, sender.hostname, sender.controller.concurrency,
                              config.WORKER_HEARTBEAT_SECONDS)
        heartbeat.start()
        beating.append(heartbeat)

    def stop_heartbeat(**_: object) -> None:
        while beating:
            beating.pop().stop()

    def mark_dead(pid: int | None = None, **_: object) -> None:
        metrics.mark_process_dead(pid or os.getpid())

    def settle_pool_process(**_: object) -> None:
        if warm_start:
            freeze_startup_objects()

    # dispatch_uid: one connection however many apps a process builds (tests build several).
    worker_ready.connect(serve_metrics, weak=False, dispatch_uid="batchq-worker-metrics")
    worker_ready.connect(start_heartbeat, weak=False, dispatch_uid="batchq-heartbeat-start")
    worker_shutdown.connect(stop_heartbeat, weak=False, dispatch_uid="batchq-heartbeat-stop")
    worker_process_shutdown.connect(mark_dead, weak=False, dispatch_uid="batchq-mark-dead")
    worker_process_init.connect(settle_pool_process, weak=False,
                                dispatch_uid="batchq-pool-process-setup")
