"""The SSRF guard: callbacks go to public addresses, or to networks listed one by one, and
always to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from app.domain.webhook_targets import Target, TargetRefused, post, resolve_target
from tests.support.receiver import receiver

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

# One address, many spellings: the resolver reads each of them as loopback.
LOOPBACK_SPELLINGS = [
    ("http://127.0.0.1:9/hook", "127.0.0.1"),
    ("http://localhost:9/hook", "127.0.0.1"),
    ("http://2130706433:9/hook", "127.0.0.1"),
    ("http://0x7f000001:9/hook", "127.0.0.1"),
    ("http://017700000001:9/hook", "127.0.0.1"),
    ("http://127.1:9/hook", "127.0.0.1"),
    ("http://user:pw@127.0.0.1:9/hook", "127.0.0.1"),
    ("http://user:pw@localhost:9/hook", "127.0.0.1"),
    ("http://[::1]:9/hook", "::1"),
    ("http://[::ffff:127.0.0.1]:9/hook", "::ffff:127.0.0.1"),
]

# Never reachable through a loopback allowance, however spelled.
FORBIDDEN_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://user:pw@169.254.169.254/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://[fd00::1]/",
    "http://0.0.0.0/",
    "http://240.0.0.1/",  # reserved
    "http://224.0.0.1/",  # multicast, which Python counts as global
    "http://[ff02::1]/",
]


@pytest.fixture
def dns(monkeypatch):
    """Answer getaddrinfo from a table instead of the network."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_a_public_name_is_pinned_to_its_checked_address(dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    target = resolve_target("https://hooks.example.com/batch?x=1")
    assert target == Target(("https://93.184.216.34/batch?x=1",), {"Host": "hooks.example.com"},
                            {"sni_hostname": "hooks.example.com"})
    plain = resolve_target("http://hooks.example.com:8080/b")
    assert plain.urls == ("http://93.184.216.34:8080/b",)
    assert plain.headers == {"Host": "hooks.example.com:8080"} and plain.extensions == {}


def test_one_address_of_each_family_is_kept_in_the_resolvers_order(dns):
    dns["dual.example.com"] = ["2606:2800:220:1::1", "93.184.216.34", "2606:2800:220:1::2",
                               "93.184.216.35"]
    target = resolve_target("http://dual.example.com/hook")
    assert target.urls == ("http://[2606:2800:220:1::1]/hook", "http://93.184.216.34/hook")


@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"],
                                       ["::1"], ["fd00::1"], ["93.184.216.34", "192.168.1.9"],
                                       ["0.0.0.0"], ["::ffff:10.0.0.1"]])
def test_non_public_addresses_are_refused(dns, addresses):
    dns["inside.example.com"] = addresses
    with pytest.raises(TargetRefused, match="non-public .* outside WEBHOOK_ALLOW_NETWORKS"):
        resolve_target("https://inside.example.com/hook")


def test_a_public_address_carried_in_ipv6_is_public(dns):
    dns["mapped.example.com"] = ["::ffff:93.184.216.34"]
    (url,) = resolve_target("http://mapped.example.com/").urls
    assert ipaddress.ip_address(httpx.URL(url).host).ipv4_mapped == ipaddress.ip_address(
        "93.184.216.34")


def test_an_ipv6_literal_keeps_its_brackets_in_host(dns):
    dns["2606:2800:220:1::1"] = ["2606:2800:220:1::1"]
    target = resolve_target("http://[2606:2800:220:1::1]:8080/hook")
    assert target.urls == ("http://[2606:2800:220:1::1]:8080/hook",)
    assert target.headers == {"Host": "[2606:2800:220:1::1]:8080"}


def test_unknown_names_are_refused(dns):
    with pytest.raises(TargetRefused, match="does not resolve"):
        resolve_target("http://nowhere.invalid/hook")


@pytest.mark.parametrize(("url", "pinned"), LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_refused_by_default(url, pinned):
    with pytest.raises(TargetRefused, match="non-public"):
        resolve_target(url)


@pytest.mark.parametrize(("url", "pinned"), LOOPBACK_SPELLINGS)
def test_a_loopback_allowance_lets_every_spelling_through_pinned(url, pinned):
    target = resolve_target(url, allowed=LOOPBACK)
    (sent,) = (httpx.URL(sent) for sent in target.urls)
    given = httpx.URL(url)
    assert ipaddress.ip_address(sent.host) == ipaddress.ip_address(pinned)
    assert (sent.userinfo, sent.port, sent.raw_path) == (given.userinfo, 9, b"/hook")
    assert target.headers == {"Host": given.netloc.decode()}


@pytest.mark.parametrize("url", FORBIDDEN_SPELLINGS)
def test_a_loopback_allowance_lets_nothing_else_through(url):
    with pytest.raises(TargetRefused, match="non-public"):
        resolve_target(url, allowed=LOOPBACK)


def test_a_listed_network_lets_its_addresses_through_and_no_others(dns):
    dns["ten.internal"] = ["10.1.2.3"]
    dns["metadata.internal"] = ["169.254.169.254"]
    dns["both.internal"] = ["10.1.2.3", "169.254.169.254"]
    allowed = (ipaddress.ip_network("10.0.0.0/8"),)
    assert resolve_target("http://ten.internal/hook", allowed=allowed).urls == (
        "http://10.1.2.3/hook",)
    for host in ("metadata.internal", "both.internal"):
        with pytest.raises(TargetRefused, match=r"\(169\.254\.169\.254\)"):
            resolve_target(f"http://{host}/hook", allowed=allowed)


def test_post_moves_to_the_next_address_only_when_the_first_cannot_be_reached():
    with receiver() as hook, socket.socket(socket.AF_INET6) as unreachable:
        port = httpx.URL(hook.url).port
        # Bound, never listening: a connection to it is refused at once.
        unreachable.bind(("::1", port))
        target = Target((f"http://[::1]:{port}/hook", f"http://127.0.0.1:{port}/hook"),
                        {"Host": f"localhost:{port}"})
        with httpx.Client() as client:
            response = post(client, target, b"{}", {"X-Test": "1"})
    assert response.status_code == 200
    assert [(r.path, r.headers["Host"], r.body) for r in hook.received] == [
        ("/hook", f"localhost:{port}", b"{}")]


def test_post_does_not_try_another_address_once_connected():
    with receiver([500]) as hook:
        port = httpx.URL(hook.url).port
        target = Target((f"http://127.0.0.1:{port}/first", f"http://127.0.0.1:{port}/second"))
        with httpx.Client() as client:
            response = post(client, target, b"{}", {})
    assert response.status_code == 500
    assert [r.path for r in hook.received] == ["/first"]
