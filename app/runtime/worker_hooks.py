"""What a Celery worker process does around its tasks: serve its machine's metrics, let go of
a dead pool process's metric files, and (``WARM_START``) keep the garbage collector off what
each pool process inherited.

Connected to Celery's signals once per process, whatever it is: the signals only fire in a
``celery worker``, so the web and Flower are unaffected.
"""

from __future__ import annotations

import os

from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

from app.config import Config
from app.observability import metrics
from app.runtime.gc_freeze import freeze_startup_objects


def connect_worker_signals(config: Config) -> None:
    """Connect the worker's start-up and shut-down steps for ``config``."""
    port, warm_start = config.WORKER_METRICS_PORT, config.WARM_START

    def serve_metrics(**_: object) -> None:
        if port:
            metrics.serve_worker_metrics(port)

    def mark_dead(pid: int | None = None, **_: object) -> None:
        metrics.mark_process_dead(pid or os.getpid())

    def settle_pool_process(**_: object) -> None:
        if warm_start:
            freeze_startup_objects()

    # dispatch_uid: one connection however many apps a process builds (tests build several).
    worker_ready.connect(serve_metrics, weak=False, dispatch_uid="batchq-worker-metrics")
    worker_process_shutdown.connect(mark_dead, weak=False, dispatch_uid="batchq-mark-dead")
    worker_process_init.connect(settle_pool_process, weak=False,
                                dispatch_uid="batchq-pool-process-setup")
