"""Keeping the garbage collector off the objects a process loads once, at start.

A web or worker process holds some 85,000 long-lived objects: modules, the Flask app,
the schemas, Celery. Every full (generation 2) collection walks all of them, which took
60 ms here, inside whichever request allocated the object that triggered it: that was the
POST's p99. ``gc.freeze`` moves them to a permanent generation that collections skip;
the objects of requests and tasks are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, then exempt the rest from future collections."""
    gc.collect()
    gc.freeze()
