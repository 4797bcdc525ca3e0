"""PostgreSQL: every SQL statement of the service, one module per table group, and the schema's
migrations (``app/store/migrations/``). Nothing here knows about HTTP, Celery or Redis."""
