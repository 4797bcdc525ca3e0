"""The SSRF guard: callbacks go to public addresses only, pinned to the address checked."""

from __future__ import annotations

import socket

import pytest

from app.domain.webhook_targets import Target, TargetRefused, resolve_target


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
    target = resolve_target("https://hooks.example.com/batch?x=1", allow_private=False)
    assert target == Target("https://93.184.216.34/batch?x=1", {"Host": "hooks.example.com"},
                            {"sni_hostname": "hooks.example.com"})
    plain = resolve_target("http://hooks.example.com:8080/b", allow_private=False)
    assert plain.url == "http://93.184.216.34:8080/b"
    assert plain.headers == {"Host": "hooks.example.com:8080"} and plain.extensions == {}


@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"],
                                       ["::1"], ["fd00::1"], ["93.184.216.34", "192.168.1.9"],
                                       ["0.0.0.0"], ["224.0.0.1"], ["ff02::1"]])
def test_non_public_addresses_are_refused(dns, addresses):
    dns["inside.example.com"] = addresses
    with pytest.raises(TargetRefused, match="non-public"):
        resolve_target("https://inside.example.com/hook", allow_private=False)


def test_an_ipv6_literal_keeps_its_brackets_in_host(dns):
    dns["2606:2800:220:1::1"] = ["2606:2800:220:1::1"]
    target = resolve_target("http://[2606:2800:220:1::1]:8080/hook", allow_private=False)
    assert target.url == "http://[2606:2800:220:1::1]:8080/hook"
    assert target.headers == {"Host": "[2606:2800:220:1::1]:8080"}


def test_ip_literals_and_unknown_names(dns):
    dns["127.0.0.1"] = ["127.0.0.1"]
    with pytest.raises(TargetRefused):
        resolve_target("http://127.0.0.1:9/hook", allow_private=False)
    with pytest.raises(TargetRefused, match="does not resolve"):
        resolve_target("http://nowhere.invalid/hook", allow_private=False)


def test_allowed_private_networks_send_as_given():
    url = "http://127.0.0.1:9/hook"
    assert resolve_target(url, allow_private=True) == Target(url)
