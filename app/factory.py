"""The Flask application factory, built from small steps.

``create_app`` is the composition root: the one place that wires every layer together, for
the web process (gunicorn), the workers (``workers/celery.py``) and the ``flask`` command line.
The layers themselves import each other one way only (see ``[tool.importlinter]`` in
``pyproject.toml``). ``app.create_app`` names this function.
"""

from __future__ import annotations

import logging

from flask import Flask

from app.config import Config
from app.messaging.celery_app import celery_init_app
from app.observability import logs
from app.runtime.commands import db_cli, tenants_cli
from app.runtime.worker_hooks import connect_worker_signals
from app.services import build_services
from app.web.errors import register_error_handlers
from app.web.guards import register_guards
from app.web.ratelimit import init_rate_limiter
from app.web.request_id import register_request_id
from app.web.routes import BLUEPRINTS


def create_app(config: Config | None = None) -> Flask:
    """Create the application for ``config`` (by default, read from the environment)."""
    config = config or Config()
    # The dashboard's pages and assets live with the rest of the HTTP layer.
    app = Flask("app", template_folder="web/templates", static_folder="web/static")
    app.config.from_object(config)
    register_logging()
    register_extensions(app, config)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_logging() -> None:
    """Log INFO and above to stderr as JSON lines unless the host process configured logging."""
    logs.configure(logging.INFO)


def register_extensions(app: Flask, config: Config) -> None:
    """Create Celery, the services (pool, Redis, progress store) and the rate limiter."""
    celery = celery_init_app(app, config)
    services = app.extensions["batchq"] = build_services(config, celery)
    init_rate_limiter(app, services.redis, config)
    connect_worker_signals(services)


def register_blueprints(app: Flask) -> None:
    """Register the HTTP endpoints, after the checks every request passes first."""
    register_request_id(app)
    register_guards(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """Answer every error in the JSON error shape."""
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    """Register the ``flask db`` and ``flask tenants`` commands."""
    app.cli.add_command(db_cli)
    app.cli.add_command(tenants_cli)
