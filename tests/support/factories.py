"""Test data: customer records and the seed's example request."""

from __future__ import annotations

import secrets
from pathlib import Path

# The request body of the seed page, as published.
SEED_REQUEST = """{
"body" : [
{
"customerId" : "12345" ,
"email" : "john.doe@example.com" ,
"name" : "John Doe" ,
"gender" : "M" ,
"dateOfBirth" : "1990-01-01" ,
"joinDate" : "2022-01-01" ,
"tags" : [ "vip" , "newsletter_subscriber" ],
"custom" : {
"favorite_color" : "blue" ,
"loyalty_points" : 1500
}
},
{
"customerId" : "67890" ,
"email" : "jane.smith@example.com" ,
"name" : "Jane Smith" ,
"gender" : "F" ,
"dateOfBirth" : "1985-05-15" ,
"joinDate" : "2023-03-10" ,
"tags" : [ "premium_member" ],
"custom" : {
"favorite_color" : "green" ,
"loyalty_points" : 2000
}
}
]
}"""

SEED_PAGE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_7036345d3d788b0e.txt"


def customer(customer_id: str, **fields) -> dict:
    """Return a valid customer record, with ``fields`` overriding the defaults."""
    record = {
        "customerId": customer_id,
        "email": f"{customer_id}@example.com",
        "name": f"Customer {customer_id}",
        "gender": "F",
        "dateOfBirth": "1990-01-01",
        "joinDate": "2024-02-29",
        "tags": ["imported"],
        "custom": {"source": "test"},
    }
    record.update(fields)
    return record


def customers(count: int, prefix: str | None = None) -> list[dict]:
    """Return ``count`` valid customer records with unique ids."""
    prefix = prefix or secrets.token_hex(3)
    return [customer(f"{prefix}-{i:05d}") for i in range(count)]
