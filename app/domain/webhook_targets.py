"""Where a webhook may be sent: the SSRF guard.

A callback URL comes from a tenant, and the workers that POST to it sit inside the
service's network. Unless ``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` is set, the host is resolved
once, every address it resolves to must be public (``ipaddress``'s ``is_global``, not
multicast: no loopback, private, link-local or reserved address), and the request is sent
to that very address, with the name kept in ``Host`` and in TLS's SNI and certificate
check. Resolving once and connecting to what was checked leaves no window for DNS
rebinding.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

import httpx


class TargetRefused(Exception):
    """The callback URL leads to an address the service must not call."""


@dataclass(frozen=True)
class Target:
    """How to send a webhook: the URL to connect to, and what to add to the request."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Return where to send a POST for ``url``; raise TargetRefused for a private address."""
    if allow_private:
        return Target(url)
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"{parsed.host} does not resolve: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    # Python counts multicast as global; a webhook has no business there either.
    blocked = [str(address) for address in addresses
               if not address.is_global or address.is_multicast]
    if blocked or not addresses:
        raise TargetRefused(f"{parsed.host} resolves to a non-public address "
                            f"({', '.join(blocked) or 'none'}); set "
                            "WEBHOOK_ALLOW_PRIVATE_NETWORKS to allow it")
    host_header = parsed.netloc.decode("ascii")  # host[:port], IPv6 in brackets, no userinfo
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return Target(str(parsed.copy_with(host=str(addresses[0]))), {"Host": host_header},
                  extensions)
