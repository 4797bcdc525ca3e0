"""Celery workers: the job and chunk tasks, and one module per batch operation.

``celery -A workers ...`` finds the Celery application in ``workers/celery.py``.
"""
