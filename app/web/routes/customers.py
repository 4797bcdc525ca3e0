"""Reading a customer profile, so clients can see what an import did."""

from __future__ import annotations

from flask import Blueprint, Response

from app.error_codes import CUSTOMER_NOT_FOUND
from app.services import current_services
from app.store.customers import get_customer
from app.web.auth import authenticate_request
from app.web.errors import ApiError
from app.web.jsonio import json_response
from app.web.openapi import documented
from schemas.customers import StoredCustomerSchema

customers_bp = Blueprint("customers", __name__, url_prefix="/api/v4.0/integrations")


@customers_bp.get("/customers/<path:customer_id>")
@documented(
    "Show a stored customer profile",
    path_params={"customer_id": "The customer's customerId."},
    responses={200: StoredCustomerSchema, 404: "No such customer for your tenant."},
    tags=("customers",),
)
def show_customer(customer_id: str) -> Response:
    """Return the caller's customer ``customer_id``."""
    services = current_services()
    tenant = authenticate_request(services)
    with services.db.transaction() as conn:
        customer = get_customer(conn, tenant.id, customer_id)
    if customer is None:
        raise ApiError(CUSTOMER_NOT_FOUND, f"No customer with customerId {customer_id!r}.")
    return json_response(customer)
