"""Celery, built in exactly one place from the application's configuration.

Tasks run inside the Flask application context, so they reach the same services (pool,
Redis, configuration) as the web process.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from app.config import Config


def celery_init_app(app: Flask, config: Config) -> Celery:
    """Create the Celery app for ``app`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=["workers.tasks"])
    celery.conf.update(config.celery_settings())
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
