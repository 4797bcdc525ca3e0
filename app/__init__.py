"""The Flask application factory, built from small steps."""

from __future__ import annotations

import logging

from flask import Flask

from app.config import Config


def create_app(config: Config | None = None) -> Flask:
    """Create the application for ``config`` (by default, read from the environment)."""
    config = config or Config()
    app = Flask(__name__)
    app.config.from_object(config)
    register_logging()
    register_extensions(app, config)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_logging() -> None:
    """Log INFO and above to stderr as JSON lines unless the host process configured logging."""
    from app import logs

    logs.configure(logging.INFO)


def register_extensions(app: Flask, config: Config) -> None:
    """Create Celery and the services (pool, Redis, progress store)."""
    from app.celery_app import celery_init_app
    from app.services import build_services

    celery = celery_init_app(app, config)
    app.extensions["batchq"] = build_services(config, celery)


def register_blueprints(app: Flask) -> None:
    """Register the HTTP endpoints."""
    from app.api import BLUEPRINTS
    from app.guards import register_guards
    from app.request_id import register_request_id

    register_request_id(app)
    register_guards(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """Answer every error in the JSON error shape."""
    from app.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    """Register the ``flask db`` and ``flask tenants`` commands."""
    from app.commands import db_cli, tenants_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(tenants_cli)
