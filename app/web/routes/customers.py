"""Reading a customer, so clients can see what an import did: its profile and its points,
in the shapes of Gameball's published document."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from flask import Blueprint, Response

from app.error_codes import CUSTOMER_NOT_FOUND
from app.services import Services, current_services
from app.store import ledger
from app.store.customers import get_customer, known_customers
from app.store.points_rules import PointsRule, default_rule, tenant_rule
from app.web.auth import authenticate_request
from app.web.errors import ApiError
from app.web.jsonio import json_response
from app.web.openapi import documented
from schemas.customers import CustomerBalanceSchema, StoredCustomerSchema

customers_bp = Blueprint("customers", __name__, url_prefix="/api/v4.0/integrations")

CUSTOMER_ID = {"customer_id": "The customer's customerId."}
NO_CUSTOMER = "No such customer for your tenant (7000)."


@customers_bp.get("/customers/<path:customer_id>")
@documented(
    "Show a stored customer profile",
    description="In the published document's shape, whichever shape of record wrote it: the "
                "top-level fields beside `customerId` and `gameballId`, every other attribute "
                "(the seed's `name` and `tags` included) under `customerAttributes`; `email` "
                "and `mobile` in both places.",
    path_params=CUSTOMER_ID,
    responses={200: StoredCustomerSchema, 404: NO_CUSTOMER},
    tags=("customers",),
)
def show_customer(customer_id: str) -> Response:
    """Return the caller's customer ``customer_id``."""
    return _answer(customer_id, lambda conn, services, tenant_id: get_customer(
        conn, tenant_id, customer_id))


@customers_bp.get("/customers/<path:customer_id>/balance")
@documented(
    "Show a customer's points balance",
    description="Points, and their value in money at your redemption rate, rounded down to "
                "the cent.",
    path_params=CUSTOMER_ID,
    responses={200: CustomerBalanceSchema, 404: NO_CUSTOMER},
    tags=("customers",),
)
def show_balance(customer_id: str) -> Response:
    """Return the caller's customer's points and what they are worth."""
    def read(conn: psycopg.Connection, services: Services, tenant_id: int) -> dict | None:
        if not known_customers(conn, tenant_id, [customer_id]):
            return None
        balance = ledger.balances(conn, tenant_id, [customer_id])[customer_id]
        return _balance_body(balance, tenant_rule(conn, tenant_id, default_rule(services.config)))
    return _answer(customer_id, read)


def _answer(customer_id: str, read: Callable[[psycopg.Connection, Services, int], dict | None]
            ) -> Response:
    """Answer what ``read`` finds of the caller's customer, in one transaction; 404 if none."""
    services = current_services()
    tenant = authenticate_request(services)
    with services.db.transaction() as conn:
        found = read(conn, services, tenant.id)
    if found is None:
        raise ApiError(CUSTOMER_NOT_FOUND, f"No customer with customerId {customer_id!r}.")
    return json_response(found)


def _balance_body(balance: ledger.Balance, rule: PointsRule) -> dict:
    """Return the document's balance fields: each figure in points, and its value."""
    total = balance.available + balance.pending
    return {"totalPointsBalance": total,
            "totalPointsValue": float(rule.value_of(total)),
            "availablePointsBalance": balance.available,
            "availablePointsValue": float(rule.value_of(balance.available)),
            "pendingPoints": balance.pending,
            "pendingPointsValue": float(rule.value_of(balance.pending))}
