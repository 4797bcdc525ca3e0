"""Who gets the dashboard: off without OPERATOR_TOKEN, else only with the token or its cookie."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import Config, ConfigError
from app.web.operator_auth import COOKIE

TOKEN = "a-long-operator-token-0123456789"


@pytest.fixture
def make_client(database_url, redis_url):
    apps = []

    def make(**settings: str):
        app = create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                                 **settings}))
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["batchq"].db.close()


def test_the_dashboard_is_off_until_a_token_is_set(make_client):
    client = make_client()
    for path in ("/dashboard", "/dashboard/login", "/dashboard/live"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "set OPERATOR_TOKEN" in response.get_json()["message"]


def test_a_short_token_is_refused():
    with pytest.raises(ConfigError, match="OPERATOR_TOKEN must be at least 16"):
        Config({"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://r/0",
                "OPERATOR_TOKEN": "short"})


def test_login_sets_a_cookie_that_opens_the_page(make_client):
    client = make_client(OPERATOR_TOKEN=TOKEN)
    assert client.get("/dashboard").headers["Location"].endswith("/dashboard/login")
    assert client.get("/dashboard/live").status_code == 401

    wrong = client.post("/dashboard/login", data={"token": TOKEN + "x"})
    assert wrong.status_code == 401 and b"not the operator token" in wrong.data
    assert client.get_cookie(COOKIE, path="/dashboard") is None

    right = client.post("/dashboard/login", data={"token": TOKEN})
    assert right.status_code == 302
    cookie = client.get_cookie(COOKIE, path="/dashboard")
    assert cookie.http_only and cookie.same_site == "Strict" and TOKEN not in cookie.value
    page = client.get("/dashboard")
    assert page.status_code == 200 and b'id="live"' in page.data
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

    client.post("/dashboard/logout")
    assert client.get("/dashboard/live").status_code == 401


def test_scripts_use_the_bearer_token_and_stop_needs_the_dashboard_header(make_client):
    client = make_client(OPERATOR_TOKEN=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/dashboard/live", headers=bearer).status_code == 200
    assert client.get("/dashboard/live",
                      headers={"Authorization": "Bearer nope"}).status_code == 401
    # A cross-site form could carry the cookie, but never this header.
    refused = client.post("/dashboard/jobs/abc/stop", headers=bearer)
    assert refused.status_code == 401 and "X-Batchq-Dashboard" in refused.get_json()["message"]
    missing = client.post("/dashboard/jobs/abc/stop",
                          headers={**bearer, "X-Batchq-Dashboard": "stop"})
    assert missing.status_code == 404
