"""Process plumbing: what gunicorn, Celery's worker and the ``flask`` command line run when a
process starts (hooks, warm-up, CLI commands). The top layer: it may use every other one."""
