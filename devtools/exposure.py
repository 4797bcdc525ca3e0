"""Where ``make run`` listens, and why its demo credentials never leave this machine.

``make run`` serves the API and Flower on 127.0.0.1, as ``flask run`` and Django's
``runserver`` do: a development service is reachable from the machine it runs on only.
``HOST=0.0.0.0 make run`` (or any other address) opts in to serving other machines.

The demo key pair and operator token are published in the README. On an address other
machines reach they would let anyone submit jobs, make the workers POST wherever the
webhook guard allows, and open the operators' dashboard. So off loopback ``make run``
refuses to start while a demo credential is in use, naming the variables to set, and it
deletes the demo pair from a database where an earlier run on loopback stored it (a later
run on loopback provisions it again).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

import psycopg

from app.config import Address, socket_address
from app.store import tenants

DEFAULT_HOST = "127.0.0.1"
DEMO_API_KEY = "demo-api-key"
DEMO_SECRET_KEY = "demo-secret-key"
DEMO_API_KEYS = f"demo:{DEMO_API_KEY}:{DEMO_SECRET_KEY}"
DEMO_OPERATOR_TOKEN = "demo-operator-token"


class DemoCredentialsExposed(RuntimeError):
    """make run was asked to serve other machines with credentials the README publishes."""


def demo_variables(env: Mapping[str, str]) -> list[str]:
    """Return the variables of ``env`` that hold a demo credential, unset ones counted."""
    # The README publishes the key and the secret apart: either one alone is known.
    key_fields = re.split(r"[,:]", env.get("BATCH_API_KEYS") or DEMO_API_KEYS)
    found = []
    if {DEMO_API_KEY, DEMO_SECRET_KEY} & {field.strip() for field in key_fields}:
        found.append("BATCH_API_KEYS")
    if (env.get("OPERATOR_TOKEN") or DEMO_OPERATOR_TOKEN).strip() == DEMO_OPERATOR_TOKEN:
        found.append("OPERATOR_TOKEN")
    return found


def refuse_demo_credentials_off_loopback(host: Address, env: Mapping[str, str]) -> None:
    """Raise DemoCredentialsExposed if ``host`` is not loopback and a demo credential is used."""
    variables = demo_variables(env)
    if host.is_loopback or not variables:
        return
    hints = {"BATCH_API_KEYS": "BATCH_API_KEYS (tenant:apikey:secretkey, a key pair of your own)",
             "OPERATOR_TOKEN": "OPERATOR_TOKEN (a random string of 16 characters or more)"}
    raise DemoCredentialsExposed(
        f"refusing to serve {host} with the demo credentials the README publishes: anyone who "
        f"reaches this machine could use them. Set {' and '.join(hints[v] for v in variables)}"
        f", or leave HOST unset to serve {DEFAULT_HOST}, this machine only.")


def delete_demo_pair(database_url: str) -> bool:
    """Delete the demo key pair from the database; True if it was there."""
    with psycopg.connect(database_url) as conn:
        return tenants.delete_key(conn, DEMO_API_KEY)


def local_url(host: Address, port: int | str) -> str:
    """Return the URL this machine reaches a server on ``host``:``port`` at."""
    if host.is_unspecified:  # every interface: loopback among them
        host = ipaddress.ip_address("127.0.0.1" if host.version == 4 else "::1")
    return f"http://{socket_address(host, port)}"


def served(host: Address) -> str:
    """Say who can reach a server listening on ``host``."""
    if host.is_loopback:
        return (f"listening on {host}: this machine only "
                "(HOST=0.0.0.0 make run serves other machines)")
    if host.is_unspecified:
        return f"listening on {host}: every interface, other machines included"
    return f"listening on {host}: whoever reaches that address"
