"""``/api/users``: the admin manages accounts over the API; every other role is refused."""

from __future__ import annotations

from tests.api.conftest import PASSWORD, bearer


def test_the_admin_creates_changes_and_disables_a_user(api, tokens):
    admin = bearer(tokens["admin"])
    made = api.post(
        "/api/users", json={"username": "Dana", "role": "rep", "password": PASSWORD}, headers=admin
    )
    assert made.status_code == 201
    assert made.json() | {"id": 0} == {
        "id": 0,
        "username": "dana",
        "role": "rep",
        "disabled_at": None,
        "last_login_at": None,
    }
    logged = api.post("/api/auth/login", json={"username": "dana", "password": PASSWORD})
    assert logged.status_code == 200

    changed = api.put("/api/users/dana/role", json={"role": "ops"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "ops"
    assert api.get("/api/auth/me").json()["role"] == "ops"  # dana's cookie session, from this request

    disabled = api.post("/api/users/dana/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"] is not None
    assert api.get("/api/auth/me").status_code == 401
    names = {user["username"]: user for user in api.get("/api/users", headers=admin).json()}
    assert set(names) == {"admin", "compliance", "dana", "ops", "rep"}


def test_bad_account_changes_answer_in_the_error_shape(api, tokens):
    admin = bearer(tokens["admin"])
    taken = api.post(
        "/api/users", json={"username": "ops", "role": "rep", "password": PASSWORD}, headers=admin
    )
    assert taken.status_code == 409 and "already exists" in taken.json()["error"]["message"]
    short = api.post(
        "/api/users", json={"username": "erin", "role": "rep", "password": "short"}, headers=admin
    )
    assert short.status_code == 422
    role = api.put("/api/users/ops/role", json={"role": "owner"}, headers=admin)
    assert role.status_code == 422
    missing = api.post("/api/users/nobody/disable", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    again = api.post("/api/users/rep/disable", headers=admin)
    assert again.status_code == 200
    assert api.post("/api/users/rep/disable", headers=admin).status_code == 409


def test_only_the_admin_manages_accounts(api, tokens):
    for role in ("ops", "rep", "compliance"):
        headers = bearer(tokens[role])
        assert api.get("/api/users", headers=headers).status_code == 403, role
        promoted = api.put(f"/api/users/{role}/role", json={"role": "admin"}, headers=headers)
        assert promoted.status_code == 403, role
    assert api.get("/api/users").status_code == 401
