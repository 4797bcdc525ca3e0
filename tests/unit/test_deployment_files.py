"""The deployment files agree with each other: Procfile, docker-compose.yml, Dockerfile, CI."""

import ipaddress
import os
import re
import runpy
from pathlib import Path

import pytest
import yaml
from honcho.environ import parse_procfile

from app.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "api", "worker", "beat", "flower")


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_has_the_process_types_and_their_entry_points(procfile: dict[str, str]) -> None:
    assert list(procfile) == ["release", "web", "worker", "flower", "beat"]
    assert procfile["release"] == "flask --app app db upgrade"
    assert procfile["web"].startswith("gunicorn --config gunicorn.conf.py ")
    assert '"app:create_app()"' in procfile["web"]
    assert procfile["worker"].startswith("celery -A workers worker ")
    assert "--concurrency=${WORKER_CONCURRENCY:-2}" in procfile["worker"]
    assert procfile["flower"] == "celery -A workers flower --port=${FLOWER_PORT:-5555}"
    assert procfile["beat"] == "celery -A workers beat --loglevel=INFO"


def test_compose_has_the_services(compose: dict) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "rabbitmq", *APP_SERVICES}


def test_compose_runs_rabbitmq_only_in_its_profile_and_redis_stays_the_default(compose: dict):
    rabbitmq = compose["services"]["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"]
    assert rabbitmq["image"].startswith("rabbitmq:3.1")  # quorum queues' dead letters: 3.10+
    assert " ".join(rabbitmq["healthcheck"]["test"]) == "CMD rabbitmq-diagnostics -q ping"
    assert compose["x-app-environment"]["BROKER_URL"] == "${BROKER_URL:-redis://redis:6379/0}"
    for name in ("api", "worker", "beat", "flower"):
        # Waited for when its profile runs, not required otherwise.
        assert compose["services"][name]["depends_on"]["rabbitmq"] == {
            "condition": "service_healthy", "required": False}, name


def test_compose_runs_the_procfile_commands(compose: dict, procfile: dict[str, str]) -> None:
    services = compose["services"]
    commands = {name: services[name]["command"] for name in APP_SERVICES}
    assert commands == {
        "migrate": procfile["release"],
        "api": procfile["web"],
        "worker": procfile["worker"],
        "beat": procfile["beat"],
        "flower": procfile["flower"],
    }


def test_compose_app_services_share_one_environment_and_image(compose: dict) -> None:
    shared = compose["x-app-environment"]
    assert shared["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in shared["DATABASE_URL"]
    assert shared["REDIS_URL"].startswith("redis://redis:6379/")
    for name in APP_SERVICES:
        service = compose["services"][name]
        # The same object, not an equal copy: it is the anchor, written once.
        assert service["environment"] is shared, name
        assert service["image"] == "batchq:local", name
        assert service["build"] == ".", name


def _healthcheck(compose: dict, service: str) -> str:
    return " ".join(compose["services"][service]["healthcheck"]["test"])


def test_compose_health_checks(compose: dict) -> None:
    assert "pg_isready" in _healthcheck(compose, "postgres")
    assert _healthcheck(compose, "redis") == "CMD redis-cli ping"
    assert "http://127.0.0.1:8000/healthz" in _healthcheck(compose, "api")
    assert _healthcheck(compose, "worker") == (
        "CMD-SHELL celery -A workers inspect ping -d celery@$$HOSTNAME"
    )


def test_compose_start_order_waits_on_health_and_migrations(compose: dict) -> None:
    def conditions(service: str) -> dict[str, str]:
        depends_on = compose["services"][service]["depends_on"]
        return {name: rule["condition"] for name, rule in depends_on.items()
                if rule.get("required", True)}

    assert conditions("migrate") == {"postgres": "service_healthy"}
    after_migrations = {"migrate": "service_completed_successfully", "redis": "service_healthy"}
    assert conditions("api") == after_migrations
    assert conditions("worker") == after_migrations
    assert conditions("beat") == after_migrations
    assert conditions("flower") == after_migrations
    assert compose["services"]["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", ["api", "flower"])
def test_compose_publishes_on_loopback_unless_host_is_given(compose: dict, service: str) -> None:
    # As `make run`: the demo key pair is the default, so nothing is open to the network
    # unless the operator names an address (HOST=0.0.0.0).
    [published] = compose["services"][service]["ports"]
    host_ip, host_port, container_port = _with_defaults(published).split(":")
    assert ipaddress.ip_address(host_ip).is_loopback
    assert host_port == container_port
    assert _with_defaults(published, HOST="0.0.0.0").startswith("0.0.0.0:")


def _with_defaults(text: str, **shell: str) -> str:
    """Fill in ``${VAR:-default}`` as compose does, from ``shell`` or the default."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: shell.get(m[1], m[2]), text)


def test_dockerfile_installs_the_project_and_runs_as_non_root() -> None:
    lines = [line.split() for line in (ROOT / "Dockerfile").read_text().splitlines() if line]
    instructions = [words for words in lines if words[0].isupper()]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    users = [words[1] for words in instructions if words[0] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ["RUN", "pip", "install", "."] in instructions


def test_gunicorn_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("DB_POOL_MIN_SIZE", "2")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert os.environ["DB_POOL_MIN_SIZE"] == "2"
    assert settings["bind"] == "0.0.0.0:9123"
    assert settings["workers"] == 3
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] > 1
    # Logs are JSON lines on stderr; the application logs each request with its context.
    assert settings["logconfig_dict"]["formatters"]["json"]["()"] == "app.observability.logs.JsonFormatter"
    assert 0 < settings["graceful_timeout"] <= settings["timeout"]


@pytest.mark.parametrize(("host", "bind"), [("127.0.0.1", "127.0.0.1:9123"),
                                             ("::1", "[::1]:9123"), ("::", "[::]:9123")])
def test_gunicorn_listens_on_host(monkeypatch: pytest.MonkeyPatch, host: str, bind: str) -> None:
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("HOST", host)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == bind


def test_gunicorn_refuses_a_host_that_is_not_an_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "my-laptop.local")
    with pytest.raises(ConfigError, match="HOST must be the IP address to listen on .*"
                                          "got 'my-laptop.local'"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("DB_POOL_MIN_SIZE", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["bind"], settings["workers"]) == ("0.0.0.0:8000", 2)
    # A pooled connection ready for each of a process's threads (app/runtime/warmup.py).
    assert os.environ["DB_POOL_MIN_SIZE"] == str(settings["threads"])
