"""Where a webhook may be sent: the SSRF guard.

A callback URL comes from a tenant, and the workers that POST to it sit inside the
service's network, beside PostgreSQL, Redis and cloud metadata (169.254.169.254). So the
host is resolved once, every address it resolves to must be public (``ipaddress``'s
``is_global``, not multicast: no loopback, private, link-local, shared or reserved address)
or inside a network the operator listed in ``WEBHOOK_ALLOW_NETWORKS``, and the request is
sent to that very address, with the name kept in ``Host`` and in TLS's SNI and certificate
check.

Resolving once and connecting to what was checked leaves no window for DNS rebinding, and
an allowance only widens what passes the check, never skips it. The check judges addresses,
not spellings: ``localhost``, ``2130706433``, ``0x7f000001`` and ``[::ffff:127.0.0.1]`` all
reach the resolver and come back as loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from app.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The callback URL leads to an address the service must not call."""


@dataclass(frozen=True)
class Target:
    """How to send a webhook: the URLs to connect to, in turn, and what to add to the request.

    One URL per address family the host resolved to, in the resolver's order of preference:
    a receiver on ``localhost`` may listen on 127.0.0.1 only while ``::1`` comes first.
    """

    urls: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def resolve_target(url: str, *, allowed: Sequence[Network] = ()) -> Target:
    """Return where to send a POST for ``url``; raise TargetRefused for a forbidden address."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"{parsed.host} does not resolve: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    blocked = [str(address) for address in addresses if not permitted(address, allowed)]
    if blocked or not addresses:
        raise TargetRefused(f"{parsed.host} resolves to a non-public address "
                            f"({', '.join(blocked) or 'none'}) outside WEBHOOK_ALLOW_NETWORKS")
    host_header = parsed.netloc.decode("ascii")  # host[:port], IPv6 in brackets, no userinfo
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    chosen: list[Address] = []
    for address in addresses:
        if all(address.version != other.version for other in chosen):
            chosen.append(address)
    return Target(tuple(str(parsed.copy_with(host=str(address))) for address in chosen),
                  {"Host": host_header}, extensions)


def permitted(address: Address, allowed: Sequence[Network] = ()) -> bool:
    """Tell whether a webhook may connect to ``address``: public, or inside ``allowed``."""
    # ::ffff:a.b.c.d is a.b.c.d on the wire: judged as the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # Python counts multicast as global; a webhook has no business there either.
    public = address.is_global and not address.is_multicast
    return public or any(address in network for network in allowed)


def post(client: httpx.Client, target: Target, content: bytes, headers: dict[str, str]
         ) -> httpx.Response:
    """POST to the target's addresses in turn, moving on only when no connection was made."""
    headers = {**headers, **target.headers}
    # Nothing was sent to an address that could not be connected to, so trying the next
    # one cannot deliver twice.
    for url in target.urls[:-1]:
        try:
            return client.post(url, content=content, headers=headers,
                               extensions=target.extensions)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            continue
    return client.post(target.urls[-1], content=content, headers=headers,
                       extensions=target.extensions)
