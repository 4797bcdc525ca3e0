# The service's image: the same image runs the api, the worker, flower and the migrations;
# docker-compose.yml picks the command (the Procfile's lines).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --user-group --uid 10001 batchq
WORKDIR /srv/batchq

# Dependencies first, from pyproject.toml alone, so that a code change doesn't reinstall them
# (with no packages beside it, `pip install .` installs just the dependencies).
COPY pyproject.toml ./
RUN pip install .

COPY . .
RUN pip install --no-deps --force-reinstall .

# Run the code from this folder (gunicorn.conf.py and the Procfile's commands are here); the
# installed package carries the migrations too, as package data.
ENV PYTHONPATH=/srv/batchq \
    PORT=8000

USER batchq
EXPOSE 8000 5555
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:create_app()"]
