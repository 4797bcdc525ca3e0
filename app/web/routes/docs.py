"""The API's own description: the OpenAPI document, a Swagger UI page that reads it, and
the table of error codes.

Swagger UI's files come from the ``swagger-ui-bundle`` package and are served from here, so
the page works on a machine without internet access (no CDN).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from app.error_codes import CATALOGUE
from app.web.errors import ERRORS_PAGE
from app.web.jsonio import json_response
from app.web.openapi import build_spec, undocumented

docs_bp = Blueprint("docs", __name__)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>batchq API</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{initializer}"></script>
</body>
</html>
"""

_INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: %s, dom_id: "#swagger-ui", deepLinking: true});
};
"""


@docs_bp.get("/openapi.json")
@undocumented("the API document itself")
def openapi_document() -> Response:
    """Return the OpenAPI 3 document of this API, built once per process."""
    spec = current_app.extensions.get("batchq-openapi")
    if spec is None:
        spec = current_app.extensions["batchq-openapi"] = build_spec(current_app)
    return json_response(spec)


@docs_bp.get("/docs")
@undocumented("an HTML page for people")
def docs_page() -> Response:
    """Return the Swagger UI page, pointed at /openapi.json."""
    page = _PAGE.format(css=url_for("docs.docs_asset", filename="swagger-ui.css"),
                        bundle=url_for("docs.docs_asset", filename="swagger-ui-bundle.js"),
                        initializer=url_for("docs.docs_initializer"))
    return Response(page, mimetype="text/html")


@docs_bp.get(ERRORS_PAGE)
@undocumented("an HTML page for people: the table every error's documentationUrl points at")
def errors_page() -> str:
    """Return the table of error codes, each row an anchor (``#1001``)."""
    return render_template("docs/errors.html", codes=sorted(CATALOGUE.values(),
                                                            key=lambda entry: entry.code))


@docs_bp.get("/docs/initializer.js")
@undocumented("a script of the HTML page")
def docs_initializer() -> Response:
    """Start Swagger UI on this server's document."""
    url = url_for("docs.openapi_document")
    return Response(_INITIALIZER % f'"{url}"', mimetype="text/javascript")


@docs_bp.get("/docs/assets/<path:filename>")
@undocumented("Swagger UI's static files")
def docs_asset(filename: str) -> Response:
    """Serve one of Swagger UI's files."""
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
