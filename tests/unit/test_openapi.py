"""The OpenAPI document: every route documented or exempt, and the document served."""

from __future__ import annotations

import pytest
from flask import Blueprint

from app import create_app
from app.config import Config
from app.web.openapi import build_spec, documented, undeclared_endpoints, undocumented

SERVERS = {"DATABASE_URL": "postgresql://nowhere/x", "REDIS_URL": "redis://nowhere:1/0"}


@pytest.fixture
def app():
    return create_app(Config(SERVERS))


def test_every_route_is_documented_or_exempt(app):
    # A new route fails here until it says @documented(...) or @undocumented("why").
    assert undeclared_endpoints(app) == []


def test_a_route_without_a_declaration_is_caught(app):
    stray = Blueprint("stray", __name__)
    stray.add_url_rule("/stray", "stray", lambda: "")
    app.register_blueprint(stray)
    assert undeclared_endpoints(app) == ["stray.stray"]


def test_every_documented_route_is_in_the_document(app):
    paths = build_spec(app)["paths"]
    documented_rules = [rule for rule in app.url_map.iter_rules()
                        if hasattr(app.view_functions[rule.endpoint], "__openapi__")]
    assert documented_rules
    for rule in documented_rules:
        prefix = rule.rule.split("<", 1)[0]
        assert any(path.startswith(prefix) for path in paths), rule.rule


def test_the_batch_request_is_documented_per_operation_with_its_record_schema(app):
    spec = build_spec(app)
    post = spec["paths"]["/api/v4.0/integrations/batch/customers"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomersBatchRequest"}
    body = spec["components"]["schemas"]["CustomersBatchRequest"]["properties"]["body"]
    assert body["maxItems"] == 1000
    assert spec["components"]["schemas"]["Customer"]["properties"]["customerId"]["maxLength"] == 128
    assert set(post["responses"]) >= {"200", "400", "401", "413", "415", "422", "429", "503"}
    assert "Location" in post["responses"]["200"]["headers"]
    assert post["security"] == [{"APIKey": [], "SecretKey": []}]


def test_errors_share_one_shape_and_429_says_when_to_retry(app):
    spec = build_spec(app)
    show = spec["paths"]["/api/v4.0/integrations/batch/{job_id}"]["get"]
    too_many = show["responses"]["429"]
    assert too_many["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Retry-After" in too_many["headers"]


def test_an_exemption_needs_a_reason():
    with pytest.raises(ValueError, match="say why"):
        undocumented(" ")


def test_an_error_response_is_described_not_given_a_schema_of_its_own(app):
    @documented("Probe", auth=False, responses={200: "fine", 418: "a teapot"})
    def probe():
        return ""
    app.add_url_rule("/probe", "probe", probe)
    responses = build_spec(app)["paths"]["/probe"]["get"]["responses"]
    assert "content" not in responses["200"]
    assert responses["418"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_document_and_docs_page_are_served_without_internet(app):
    client = app.test_client()
    document = client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json["openapi"].startswith("3.")
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http" not in html  # every asset comes from this server
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                  "/docs/initializer.js"):
        assert asset in html
        response = client.get(asset)
        assert response.status_code == 200 and response.data, asset
        response.close()
    assert b"/openapi.json" in client.get("/docs/initializer.js").data
