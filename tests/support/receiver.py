"""A local HTTP server in the test process that records what is POSTed to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The server's address, what it received, and the statuses it answers in turn."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def receiver(statuses: list[int] | None = None, headers: dict[str, str] | None = None
             ) -> Iterator[Receiver]:
    """Run a receiver on a free loopback port; it answers ``statuses`` in turn, then 200."""
    state = Receiver(url="", statuses=list(statuses or []), headers=dict(headers or {}))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                status = state.next_status()
            self.send_response(status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET = do_DELETE = _answer

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
