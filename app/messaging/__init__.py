"""Celery and Redis: the Celery application, sending and revoking the job's messages by task
name, and the live progress counters. The web sends tasks by name and never imports the
workers' code."""
