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


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers and body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Receiver:
    """The server's address, what it received, and the replies it gives in turn."""

    url: str
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    last: Reply = field(default_factory=Reply)

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if self.replies else self.last


@contextmanager
def receiver(replies: list[Reply | int] | None = None, last: Reply | None = None
             ) -> Iterator[Receiver]:
    """Run a receiver on a free loopback port; it gives ``replies`` in turn, then ``last``."""
    state = Receiver(url="", replies=[r if isinstance(r, Reply) else Reply(r) for r in replies or []],
                     last=last or Reply())
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                reply = state.next_reply()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

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
