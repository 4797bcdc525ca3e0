"""devtools.exposure: which credentials are the published demo ones, and where they may be served."""

from __future__ import annotations

import ipaddress

import pytest

from devtools.exposure import (
    DemoCredentialsExposed,
    demo_variables,
    local_url,
    refuse_demo_credentials_off_loopback,
    served,
)
from devtools.run import banner, development_environment

OWN = {"BATCH_API_KEYS": "acme:ak_own:sk_own", "OPERATOR_TOKEN": "a-token-of-our-own"}


@pytest.mark.parametrize(("env", "found"), [
    ({}, ["BATCH_API_KEYS", "OPERATOR_TOKEN"]),
    ({"BATCH_API_KEYS": "", "OPERATOR_TOKEN": ""}, ["BATCH_API_KEYS", "OPERATOR_TOKEN"]),
    (OWN, []),
    ({**OWN, "BATCH_API_KEYS": "demo:demo-api-key:demo-secret-key"}, ["BATCH_API_KEYS"]),
    ({**OWN, "BATCH_API_KEYS": "acme:ak_own:sk_own, mine:demo-api-key:other"}, ["BATCH_API_KEYS"]),
    ({**OWN, "BATCH_API_KEYS": "mine:other:demo-secret-key"}, ["BATCH_API_KEYS"]),
    ({**OWN, "BATCH_API_KEYS": "demo:ak_own:sk_own"}, []),  # a tenant's name is no credential
    ({**OWN, "OPERATOR_TOKEN": "demo-operator-token"}, ["OPERATOR_TOKEN"]),
])
def test_demo_credentials_are_found_set_or_defaulted(env, found):
    assert demo_variables(env) == found


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_may_serve_the_demo_credentials(host):
    refuse_demo_credentials_off_loopback(ipaddress.ip_address(host), {})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.0.2.7"])
def test_any_other_address_refuses_them_naming_what_to_set(host):
    with pytest.raises(DemoCredentialsExposed) as refused:
        refuse_demo_credentials_off_loopback(ipaddress.ip_address(host), {})
    message = str(refused.value)
    assert message.startswith(f"refusing to serve {host} with the demo credentials")
    assert "Set BATCH_API_KEYS (tenant:apikey:secretkey" in message
    assert "OPERATOR_TOKEN (a random string of 16 characters or more)" in message
    assert message.endswith("leave HOST unset to serve 127.0.0.1, this machine only.")


def test_any_address_may_serve_credentials_of_ones_own():
    refuse_demo_credentials_off_loopback(ipaddress.ip_address("0.0.0.0"), OWN)


@pytest.mark.parametrize(("host", "url"), [("127.0.0.1", "http://127.0.0.1:8000"),
                                           ("0.0.0.0", "http://127.0.0.1:8000"),
                                           ("::", "http://[::1]:8000"),
                                           ("::1", "http://[::1]:8000"),
                                           ("10.1.2.3", "http://10.1.2.3:8000")])
def test_the_local_url_of_each_address(host, url):
    assert local_url(ipaddress.ip_address(host), 8000) == url


def test_the_banner_says_who_can_reach_the_service():
    for host, says in [("127.0.0.1", "listening on 127.0.0.1: this machine only"),
                       ("0.0.0.0", "listening on 0.0.0.0: every interface, other machines"),
                       ("10.1.2.3", "listening on 10.1.2.3: whoever reaches that address")]:
        text = banner("http://a", "http://f", served(ipaddress.ip_address(host)),
                      "demo:k:s", "t" * 16)
        assert f"Flower: http://f\nBoth {says}" in text


def test_make_run_gives_the_api_and_flower_one_address_and_webhooks_loopback_only():
    env = development_environment({"PATH": "/bin"}, ipaddress.ip_address("::1"))
    assert (env["HOST"], env["FLOWER_ADDRESS"]) == ("::1", "::1")
    assert env["WEBHOOK_ALLOW_NETWORKS"] == "127.0.0.0/8,::1/128"
    assert (env["BATCH_API_KEYS"], env["OPERATOR_TOKEN"]) == (
        "demo:demo-api-key:demo-secret-key", "demo-operator-token")
