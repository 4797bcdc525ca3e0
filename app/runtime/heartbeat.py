"""A worker's heartbeat: its row in ``worker_heartbeats``, rewritten every
``WORKER_HEARTBEAT_SECONDS`` and deleted when the worker stops cleanly.

A thread of the worker's main process with a connection of its own, not Celery's event
loop nor the pool: a beat that waits on an unreachable PostgreSQL (a connect timeout, a
silent peer) must not stall the loop that takes and acknowledges messages, and the pool
belongs to the pool processes forked from this one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import psycopg

from app.store import heartbeats
from app.store.db import Database

log = logging.getLogger(__name__)


class Heartbeat:
    """Beats for one worker node until stopped."""

    def __init__(self, db: Database, node: str, concurrency: int, interval: float) -> None:
        self.db = db
        self.node = node
        self.host = socket.gethostname()
        self.concurrency = concurrency
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="batchq-heartbeat", daemon=True)
        self._conn: psycopg.Connection | None = None

    def start(self) -> None:
        """Beat now, then every interval, in a thread of its own."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and forget this worker (it leaves cleanly)."""
        self._stopping.set()
        self._thread.join(self.interval)
        try:
            with self.db.connect(autocommit=True, connect_timeout=2) as conn:
                heartbeats.leave(conn, self.host, os.getpid())
        except psycopg.Error as error:
            log.warning("heartbeat of %s not removed (it will show as lost): %s", self.node,
                        error)

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                self._beat()
                if failing:
                    log.info("heartbeat of %s written again", self.node)
                failing = False
            except psycopg.Error as error:
                if not failing:
                    log.warning("heartbeat of %s not written: %s", self.node, error)
                failing = True
                self._close()
            self._stopping.wait(self.interval)
        self._close()

    def _beat(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect(autocommit=True)
        heartbeats.beat(self._conn, self.host, os.getpid(), self.node, self.concurrency)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
