"""Requests as raw bytes on a socket, for what no HTTP client library will send."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawAnswer:
    """A response: status, headers (lower-case names) and the body parsed as JSON if it is."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def request_bytes(method: str, path: str, headers: dict[str, str] | list[tuple[str, str]],
                  body: bytes = b"", *, chunked: bool = False, content_length: bool = True) -> bytes:
    """Build one HTTP/1.1 request; ``chunked`` sends the body in 64 KiB chunks."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    lines = [f"{method} {path} HTTP/1.1".encode("latin-1"), b"Host: test", b"Connection: close"]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in items]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    elif content_length and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send(base_url: str, data: bytes, timeout: float = 30) -> RawAnswer:
    """Send ``data`` as it is and read the answer (the server may answer before reading all)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; its answer is still to be read
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return RawAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
