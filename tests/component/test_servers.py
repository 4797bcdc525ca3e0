"""devtools.servers: which PostgreSQL and Redis are used, and the embedded servers' lifecycle."""

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from devtools.servers import ServerError, Servers, provide_servers


@pytest.fixture
def no_server_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset DATABASE_URL and REDIS_URL, whatever the test session set them to."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A data folder outside pytest's temp root.

    Embedded PostgreSQL runs as its own system user; pytest resets its temp root to 0700 each
    time a session starts, which would lock a running server out of its files whenever two
    test sessions share the machine.
    """
    path = Path(tempfile.mkdtemp(prefix="batchq-embedded-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def listening(url: str) -> bool:
    """Tell whether something accepts TCP connections at url's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def test_environment_variables_win_and_start_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # .invalid hosts never resolve: the URLs must be handed over without being tried.
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.invalid:5432/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache.invalid:6379/3")
    with provide_servers(tmp_path, try_local_defaults=True) as servers:
        assert servers == Servers(
            database_url="postgresql://someone@db.invalid:5432/app",
            redis_url="redis://cache.invalid:6379/3",
            embedded=False,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_server_variables")
def test_local_servers_are_used_when_they_answer(tmp_path: Path) -> None:
    if not (listening("tcp://127.0.0.1:5432") and listening("tcp://127.0.0.1:6379")):
        pytest.skip("no PostgreSQL and Redis on their default local ports")
    with provide_servers(tmp_path, try_local_defaults=True) as servers:
        assert not servers.embedded
        assert urlsplit(servers.database_url).port == 5432
        assert servers.redis_url == "redis://127.0.0.1:6379/0"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_server_variables")
def test_embedded_servers_answer_then_stop_even_on_ctrl_c(run_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with provide_servers(run_dir, try_local_defaults=False) as servers:
            assert servers.embedded
            for url in (servers.database_url, servers.redis_url):
                assert urlsplit(url).hostname == "127.0.0.1"
            with psycopg.connect(servers.database_url) as conn:
                assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
            with redis.Redis.from_url(servers.redis_url) as client:
                assert client.ping()
            raise KeyboardInterrupt
    assert not listening(servers.database_url)
    assert not listening(servers.redis_url)
    assert not (run_dir / "postgres" / "postmaster.pid").exists()


@pytest.mark.usefixtures("no_server_variables")
def test_embedded_postgres_keeps_its_data_between_runs(run_dir: Path) -> None:
    seen = []
    for run in (1, 2):
        with provide_servers(run_dir, try_local_defaults=False) as servers:
            with psycopg.connect(servers.database_url, autocommit=True) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS runs (n int)")
                conn.execute("INSERT INTO runs VALUES (%s)", (run,))
                seen = [n for (n,) in conn.execute("SELECT n FROM runs ORDER BY n")]
    assert seen == [1, 2]


@pytest.mark.usefixtures("no_server_variables")
def test_a_second_run_on_the_same_data_is_refused_and_leaves_the_first_alone(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with provide_servers(run_dir, try_local_defaults=False) as first:
        with pytest.raises(ServerError, match="postgres is in use by another run"):
            with provide_servers(run_dir, try_local_defaults=False):
                pass
        # Only Redis embedded this time.
        monkeypatch.setenv("DATABASE_URL", first.database_url)
        with pytest.raises(ServerError, match="redis is in use by another run"):
            with provide_servers(run_dir, try_local_defaults=False):
                pass
        with psycopg.connect(first.database_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with redis.Redis.from_url(first.redis_url) as client:
            assert client.ping()
