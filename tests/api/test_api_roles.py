"""Every endpoint family, called with each role's API token: allowed, or refused with 403."""

from __future__ import annotations

import pytest

from dialer.db import transaction
from tests.api.conftest import ROLES, bearer
from tests.factories import create_campaign

CSV = b"first_name,last_name,phone\nAva,Thompson,+1 312 555 0101\n"

# (method, path, request keywords, roles that may) -- the permission table as a user meets it.
ENDPOINTS = [
    ("GET", "/api/campaigns", {}, {"admin", "ops", "compliance"}),
    ("GET", "/api/campaigns/{campaign}", {}, {"admin", "ops", "compliance"}),
    (
        "POST",
        "/api/campaigns",
        {"json": {"name": "spring", "seller_name": "Northwind Analytics, Inc.", "caller_id": "+13125550199"}},
        {"admin", "ops"},
    ),
    ("POST", "/api/campaigns/{campaign}/pause", {}, {"admin", "ops"}),
    ("PATCH", "/api/campaigns/{campaign}", {"json": {"assignment": {"rule": "none"}}}, {"admin", "ops"}),
    (
        "POST",
        "/api/campaigns/{campaign}/leads",
        {"files": {"file": ("leads.csv", CSV, "text/csv")}},
        {"admin", "ops"},
    ),
    ("GET", "/api/attempts", {}, {"admin", "ops", "compliance"}),
    ("GET", "/api/dispositions", {}, {"admin", "ops", "compliance"}),
    ("GET", "/api/meetings", {}, {"admin", "ops", "rep", "compliance"}),
    ("PUT", "/api/meetings/999/rep", {"json": {"username": "rep"}}, {"admin", "ops"}),
    ("GET", "/api/dnc", {}, {"admin", "compliance"}),
    (
        "POST",
        "/api/dnc",
        {"json": {"phone": "+13125550188", "reason": "asked by email"}},
        {"admin", "compliance"},
    ),
    ("GET", "/api/audit/export", {}, {"admin", "compliance"}),
    ("GET", "/api/auth/me", {}, set(ROLES)),
]


@pytest.fixture
def campaign_id(runtime):
    with transaction(runtime.sessions) as session:
        return create_campaign(session, name="autumn").id


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_each_role_is_allowed_or_refused(api, tokens, campaign_id, method, path, kwargs, allowed):
    url = path.format(campaign=campaign_id)
    for role in ROLES:
        response = api.request(method, url, headers=bearer(tokens[role]), **kwargs)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"]["code"] == "role_refused"
            assert role in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_no_endpoint_answers_without_credentials(api, campaign_id, method, path, kwargs, allowed):
    url = path.format(campaign=campaign_id)
    for headers in ({}, bearer("dlr_not-a-token"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = api.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "not_authenticated"


def test_refused_writes_change_nothing(api, tokens, campaign_id):
    assert api.post(f"/api/campaigns/{campaign_id}/pause", headers=bearer(tokens["rep"])).status_code == 403
    assert (
        api.post("/api/dnc", headers=bearer(tokens["ops"]), json={"phone": "+13125550188"}).status_code == 403
    )
    shown = api.get(f"/api/campaigns/{campaign_id}", headers=bearer(tokens["ops"])).json()
    assert shown["status"] == "running"
    assert api.get("/api/dnc", headers=bearer(tokens["compliance"])).json() == []


def test_a_role_change_applies_to_the_next_request(api, tokens, runtime):
    from dialer import accounts

    assert api.get("/api/dnc", headers=bearer(tokens["ops"])).status_code == 403
    with transaction(runtime.sessions) as session:
        accounts.set_role(session, username="ops", role="compliance", now=runtime.clock.now(), actor="t")
    assert api.get("/api/dnc", headers=bearer(tokens["ops"])).status_code == 200
    with transaction(runtime.sessions) as session:
        accounts.disable_user(session, username="ops", now=runtime.clock.now(), actor="t")
    assert api.get("/api/dnc", headers=bearer(tokens["ops"])).status_code == 401


def test_every_api_operation_but_login_requires_credentials(api):
    from bridge.api import access

    doc = api.get("/openapi.json").json()
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in doc["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) >= 15
    # The security requirements come from the one authentication dependency (bearer or cookie).
    unchecked = [
        label
        for label, operation in operations
        if {next(iter(s)) for s in operation.get("security", [])} != {"HTTPBearer", "APIKeyCookie"}
    ]
    assert unchecked == ["POST /api/auth/login"]
    assert all(access.Role.ADMIN in roles for roles in access.GRANTS.values())
    assert set(access.GRANTS) == set(access.Permission)
