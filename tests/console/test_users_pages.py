"""The admin's users screen: create, change role, disable; refused to other roles; changes audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from bridge.api.access import Principal
from bridge.console.templating import sections_for
from dialer.models import AuditEvent, Role
from tests.console.conftest import PASSWORD, csrf


def _kinds(runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_an_admin_creates_a_rep_who_can_then_log_in(logged_in: dict[str, TestClient], runtime) -> None:
    admin = logged_in["admin"]
    page = admin.get("/console/users")
    assert page.status_code == 200 and 'id="user-compliance"' in page.text
    made = admin.post(
        "/console/users",
        data={"username": "dana", "role": "rep", "password": PASSWORD, "csrf_token": csrf(admin)},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/console/users"
    assert 'id="user-dana"' in admin.get("/console/users").text

    dana = TestClient(admin.app, base_url="https://testserver")
    landed = dana.post(
        "/console/login", data={"username": "dana", "password": PASSWORD}, follow_redirects=False
    )
    assert landed.status_code == 303
    assert dana.get("/api/auth/me").json() == {"username": "dana", "role": "rep", "via": "session"}
    assert "user.created" in _kinds(runtime)


def test_a_refused_change_shows_the_list_with_what_was_wrong(logged_in: dict[str, TestClient]) -> None:
    admin = logged_in["admin"]
    short = admin.post(
        "/console/users",
        data={"username": "erin", "role": "rep", "password": "short", "csrf_token": csrf(admin)},
    )
    assert short.status_code == 422 and 'role="alert"' in short.text and "12" in short.text
    taken = admin.post(
        "/console/users",
        data={"username": "ops", "role": "rep", "password": PASSWORD, "csrf_token": csrf(admin)},
    )
    assert taken.status_code == 409 and "already exists" in taken.text
    unknown = admin.post("/console/users/nobody/disable", data={"csrf_token": csrf(admin)})
    assert unknown.status_code == 404 and 'role="alert"' in unknown.text


def test_a_role_change_and_a_disable_take_effect_at_once(logged_in: dict[str, TestClient], runtime) -> None:
    admin, rep = logged_in["admin"], logged_in["rep"]
    changed = admin.post(
        "/console/users/rep/role", data={"role": "ops", "csrf_token": csrf(admin)}, follow_redirects=False
    )
    assert changed.status_code == 303
    assert rep.get("/api/auth/me").json()["role"] == "ops"  # the rep's open session acts as ops now

    disabled = admin.post(
        "/console/users/rep/disable", data={"csrf_token": csrf(admin)}, follow_redirects=False
    )
    assert disabled.status_code == 303
    assert rep.get("/api/auth/me").status_code == 401
    assert 'badge bad">disabled' in admin.get("/console/users").text
    assert {"user.role_changed", "user.disabled"} <= set(_kinds(runtime))


def test_only_the_admin_opens_the_users_screen(logged_in: dict[str, TestClient]) -> None:
    for role in ("ops", "rep", "compliance"):
        client = logged_in[role]
        assert client.get("/console/users").status_code == 403, role
        posted = client.post(
            "/console/users",
            data={"username": "mallory", "role": "admin", "password": PASSWORD, "csrf_token": csrf(client)},
        )
        assert posted.status_code == 403, role
    admin = logged_in["admin"]
    assert admin.post("/console/users/ops/disable").status_code == 403  # no CSRF token
    assert 'id="user-mallory"' not in admin.get("/console/users").text
    assert ">Users</a>" in admin.get("/console/users").text
    for role in Role:
        labels = [section.label for section in sections_for(Principal(1, role.value, role, "session"))]
        assert ("Users" in labels) == (role == Role.ADMIN), role
