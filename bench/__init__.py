"""The benchmark: the service against the limit of the machine it runs on, in one run.

``make bench`` (``python -m bench``) upserts the same generated customers straight into
PostgreSQL (the limit), through the running service (gunicorn + Celery, the Procfile's own
lines), and through a one-task-per-record Celery worker (the naive peer); it measures
latencies, 1 against 2 worker processes, and memory, then writes a table, JSON and a chart
under ``bench/results/``. Every phase uses a database and a Redis server of its own.
"""
