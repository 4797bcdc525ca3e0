"""The API's own description: the OpenAPI document and a Swagger UI page that reads it.

Swagger UI's files come from the ``swagger-ui-bundle`` package and are served from here, so
the page works on a machine without internet access (no CDN).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

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
