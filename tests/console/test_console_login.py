"""Logging in and out of the console through its forms; pages refuse what the role may not do."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from bridge.console.home import LANDING
from tests.console.conftest import PASSWORD, csrf

VENDOR = Path(__file__).resolve().parents[2] / "bridge" / "console" / "static" / "vendor"
TEMPLATES = VENDOR.parents[1] / "templates"


def test_a_page_opened_before_login_goes_to_the_login_form_and_back(api: TestClient) -> None:
    answer = api.get("/console?from=mail", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console%3Ffrom%3Dmail"

    form = api.get(answer.headers["location"])
    assert 'name="next" value="/console?from=mail"' in form.text

    done = api.post(
        "/console/login",
        data={"username": "compliance", "password": PASSWORD, "next": "/console?from=mail"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console?from=mail"
    assert api.get("/api/auth/me").json()["username"] == "compliance"


def test_a_wrong_password_shows_the_form_again_with_the_reason(api: TestClient) -> None:
    answer = api.post("/console/login", data={"username": "ops", "password": "nope"}, follow_redirects=False)
    assert answer.status_code == 401
    assert 'role="alert"' in answer.text and 'value="ops"' in answer.text
    assert "dialer_session" not in answer.cookies


def test_an_htmx_request_without_a_session_is_sent_to_the_login_page(api: TestClient) -> None:
    answer = api.get("/console", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/console/login?next=/console"


def test_login_never_redirects_to_another_site(api: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/console\\@evil.example"):
        answer = api.post(
            "/console/login",
            data={"username": "ops", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/console", target


def test_each_role_lands_on_its_section(logged_in: dict[str, TestClient]) -> None:
    for role, client in logged_in.items():
        answer = client.get("/console", follow_redirects=False)
        assert answer.headers["location"] == LANDING[role], role


def test_logout_needs_the_forms_csrf_token_and_ends_the_session(logged_in: dict[str, TestClient]) -> None:
    client = logged_in["rep"]
    refused = client.post("/console/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"] and "CSRF" in refused.text

    done = client.post("/console/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/login"
    assert client.get("/api/auth/me").status_code == 401


def test_the_api_keeps_answering_errors_in_json(api: TestClient) -> None:
    answer = api.get("/api/campaigns")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "not_authenticated"


def test_vendored_assets_are_the_recorded_npm_releases_and_nothing_loads_from_a_cdn(api: TestClient) -> None:
    record = json.loads((VENDOR / "VENDORED.json").read_text())
    for name, entry in record.items():
        served = api.get(f"/console/static/vendor/{name}")
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == entry["sha256"], name
    for template in TEMPLATES.glob("*.html"):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", template.read_text()), template.name
