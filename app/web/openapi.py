"""The OpenAPI 3 document, generated from what each route declares and the marshmallow schemas.

A route declares itself with ``@documented(...)`` (summary, request schema, responses,
headers); a route that is not part of the API (an HTML page, the metrics scrape) says so with
``@undocumented(reason)``. ``build_spec`` walks the application's URL map, so a route exists
in the document exactly when it exists in the application, and a test fails when a route is
neither documented nor exempt. The errors every route shares are added here, once: 401 and
429 for the authenticated ones, 503 when PostgreSQL is away, and the ``X-Request-ID`` header on
every answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from schemas.jobs import ErrorSchema

OPENAPI_VERSION = "3.0.3"
API_TITLE = "batchq: Gameball-compatible Batch API"
API_VERSION = "4.0"

# Flask's "<converter:name>" becomes OpenAPI's "{name}".
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_IGNORED_METHODS = {"HEAD", "OPTIONS"}

SchemaRef = type[Schema] | Schema
# A response is a schema, (schema, description) or a description alone: then an error
# (>= 400) has the error shape as its body, and a success has no body.
ResponseSpec = SchemaRef | tuple[SchemaRef | None, str] | str


@dataclass(frozen=True)
class Endpoint:
    """What one route declares about itself."""

    summary: str
    responses: Mapping[int, ResponseSpec]
    request: SchemaRef | None = None
    auth: bool = True
    description: str = ""
    # A path parameter's description, or {"description": ..., "schema": {...}} (else a string).
    path_params: Mapping[str, str | Mapping[str, Any]] = field(default_factory=dict)
    query: SchemaRef | None = None
    headers: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    # (path parameter, callable(app) -> {value: request schema}): one documented path per
    # value, e.g. POST /batch/customers with the customers' record schema.
    expand: tuple[str, Callable[[Flask], Mapping[str, SchemaRef]]] | None = None


# Headers answered by routes, defined once and referred to by name.
RESPONSE_HEADERS = {
    "X-Request-ID": {"description": "The request's id: yours if you sent a sane X-Request-ID, "
                                    "else a new one. Quote it when reporting a problem.",
                     "schema": {"type": "string"}},
    "Location": {"description": "The URL of the created job's status.",
                 "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0}},
    "Allow": {"description": "The methods the path accepts.", "schema": {"type": "string"}},
}

# Errors added to every authenticated route, and to every route, with their descriptions.
_AUTH_ERRORS = {
    401: "Keys missing, unknown, wrong or revoked (one answer for all).",
    429: "Too many requests for this key; wait Retry-After seconds.",
    503: "PostgreSQL is unreachable: nothing was stored; retry after Retry-After seconds.",
}
_HEADERS_BY_STATUS = {429: ("Retry-After",), 503: ("Retry-After",), 405: ("Allow",)}

ATTRIBUTE = "__openapi__"
EXEMPT_ATTRIBUTE = "__openapi_exempt__"
# Endpoints Flask itself registers, which no decorator can mark.
EXEMPT_ENDPOINTS = {"static": "Flask's static files, none of which is API"}


def documented(summary: str, *, responses: Mapping[int, ResponseSpec], **details: Any):
    """Declare a route's OpenAPI operation (see ``Endpoint`` for the details it takes)."""
    endpoint = Endpoint(summary=summary, responses=responses, **details)

    def mark(view: Callable) -> Callable:
        setattr(view, ATTRIBUTE, endpoint)
        return view
    return mark


def undocumented(reason: str):
    """Exempt a route that is not part of the API (an HTML page, a metrics scrape)."""
    if not reason.strip():
        raise ValueError("say why the route is not in the API document")

    def mark(view: Callable) -> Callable:
        setattr(view, EXEMPT_ATTRIBUTE, reason)
        return view
    return mark


def undeclared_endpoints(app: Flask) -> list[str]:
    """Return the endpoints that are neither documented nor exempt."""
    return sorted(name for name, view in app.view_functions.items()
                  if not hasattr(view, ATTRIBUTE) and not hasattr(view, EXEMPT_ATTRIBUTE)
                  and name not in EXEMPT_ENDPOINTS)


def build_spec(app: Flask) -> dict:
    """Return the OpenAPI document of ``app``'s documented routes."""
    spec = APISpec(title=API_TITLE, version=API_VERSION, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()], info={"description": _DESCRIPTION})
    spec.components.security_scheme("APIKey", {"type": "apiKey", "in": "header", "name": "APIKey"})
    spec.components.security_scheme("SecretKey",
                                    {"type": "apiKey", "in": "header", "name": "SecretKey"})
    spec.components.schema("Error", schema=ErrorSchema)
    for name, header in RESPONSE_HEADERS.items():
        spec.components.header(name, header)
    paths: dict[str, dict[str, dict]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None)
        if endpoint is None:
            continue
        for method in sorted((rule.methods or set()) - _IGNORED_METHODS):
            for path, request in _paths_of(app, rule.rule, endpoint):
                paths.setdefault(path, {})[method.lower()] = _operation(
                    rule.endpoint, path, endpoint, request)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _paths_of(app: Flask, rule: str, endpoint: Endpoint):
    """Yield (OpenAPI path, request schema) for a rule, expanding a parameter if declared."""
    path = _RULE_PARAMETER.sub(r"{\1}", rule)
    if endpoint.expand is None:
        yield path, endpoint.request
        return
    parameter, values = endpoint.expand
    for value, request in sorted(values(app).items()):
        yield path.replace("{" + parameter + "}", value), request


def _operation(endpoint_name: str, path: str, endpoint: Endpoint, request: SchemaRef | None) -> dict:
    suffix = re.sub(r"\W+", "_", path).strip("_")
    operation: dict[str, Any] = {
        "operationId": f"{endpoint_name.replace('.', '_')}__{suffix}",
        "summary": endpoint.summary,
        "responses": _responses(endpoint),
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.tags:
        operation["tags"] = list(endpoint.tags)
    parameters = [_path_parameter(name, endpoint.path_params.get(name, ""))
                  for name in re.findall(r"{([^}]+)}", path)]
    if endpoint.query is not None:
        parameters.append({"in": "query", "schema": endpoint.query})
    parameters.append({"in": "header", "name": "X-Request-ID", "required": False,
                       "description": "Your id for this request (1-64 of A-Z a-z 0-9 . _ : -).",
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"}})
    operation["parameters"] = parameters
    if request is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": request}}}
    if endpoint.auth:
        operation["security"] = [{"APIKey": [], "SecretKey": []}]
    return operation


def _path_parameter(name: str, declared: str | Mapping[str, Any]) -> dict:
    """Return the OpenAPI parameter of path parameter ``name`` as its route declared it."""
    if isinstance(declared, str):
        declared = {"description": declared}
    return {"in": "path", "name": name, "required": True,
            "description": declared.get("description", ""),
            "schema": declared.get("schema", {"type": "string", "minLength": 1})}


def _responses(endpoint: Endpoint) -> dict:
    declared: dict[int, ResponseSpec] = dict(endpoint.responses)
    if endpoint.auth:
        for status, description in _AUTH_ERRORS.items():
            declared.setdefault(status, description)
    responses = {}
    for status, spec in sorted(declared.items()):
        schema, description = _split(status, spec)
        headers = ("X-Request-ID", *_HEADERS_BY_STATUS.get(status, ()),
                   *endpoint.headers.get(status, ()))
        response: dict[str, Any] = {
            "description": description,
            "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in headers},
        }
        if schema is not None:
            response["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = response
    return responses


def _split(status: int, spec: ResponseSpec) -> tuple[SchemaRef | str | None, str]:
    if isinstance(spec, tuple):
        return spec
    if isinstance(spec, str):
        # An error's body is the error shape; a success described alone has no body.
        return ("Error" if status >= 400 else None), spec
    return spec, "OK"


_DESCRIPTION = """\
Bulk imports compatible with Gameball's Batch API (REST v4.0). Authenticate every call with
the `APIKey` and `SecretKey` headers. Every error answers the same JSON shape (`Error`) with a
numeric `code`; see the README's error table. Rate limits apply per APIKey (separately for
writes and reads); a 429 says how long to wait in `Retry-After`.
"""
