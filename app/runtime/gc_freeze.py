"""Keeping the garbage collector off the objects a process loads once, at start.

A web or worker process holds tens of thousands of long-lived objects: modules, the Flask
app, the schemas, Celery. Every full (generation 2) collection walks all of them, inside
whichever request allocated the object that triggered it, which shows in the slowest
requests' latency. ``gc.freeze`` moves them to a permanent generation that collections skip;
the objects of requests and tasks are collected as before. Done with ``WARM_START`` (see
docs/performance.md for what it changes).
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, then exempt the rest from future collections."""
    gc.collect()
    gc.freeze()
