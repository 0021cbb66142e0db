"""The console's login: session cookie, CSRF token on unsafe requests, logout, throttling, audit."""

from __future__ import annotations

from sqlalchemy import select

from dialer import accounts
from dialer.models import AuditEvent, WebSession
from tests.api.conftest import PASSWORD, bearer

NEW_CAMPAIGN = {"name": "spring", "seller_name": "Northwind Analytics, Inc.", "caller_id": "+13125550199"}


def _login(api, username="ops", password=PASSWORD):
    return api.post("/api/auth/login", json={"username": username, "password": password})


def _kinds(runtime, prefix):
    with runtime.sessions() as session:
        return [
            (e.kind, e.payload)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind.like(f"{prefix}%")).order_by(AuditEvent.id)
            )
        ]


def test_login_sets_an_httponly_cookie_and_stores_only_hashes(api, runtime):
    response = _login(api)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "ops" and body["role"] == "ops" and body["csrf_token"].startswith("dlc_")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("dialer_session=dls_") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" in cookie  # the public URL is https
    session_id = api.cookies["dialer_session"]
    with runtime.sessions() as session:
        row = session.scalar(select(WebSession))
    assert row.session_hash == accounts.secret_hash(session_id) and row.csrf_hash == accounts.secret_hash(
        body["csrf_token"]
    )
    assert api.get("/api/auth/me").json() == {"username": "ops", "role": "ops", "via": "session"}


def test_unsafe_cookie_requests_need_the_csrf_token(api, runtime):
    csrf = _login(api).json()["csrf_token"]
    refused = api.post("/api/campaigns", json=NEW_CAMPAIGN)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    wrong = api.post("/api/campaigns", json=NEW_CAMPAIGN, headers={"X-CSRF-Token": "dlc_guess"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf"
    assert api.get("/api/campaigns").json() == []  # nothing was created; reads need no token
    created = api.post("/api/campaigns", json=NEW_CAMPAIGN, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    # A form carries it as a field.
    form = api.post(
        f"/api/campaigns/{created.json()['id']}/leads",
        data={"csrf_token": csrf},
        files={"file": ("leads.csv", b"first_name,phone\nAva,+1 312 555 0101\n", "text/csv")},
    )
    assert form.status_code == 201, form.text


def test_a_bearer_token_needs_no_csrf_token_even_with_a_cookie(api, tokens):
    _login(api, "compliance")
    response = api.post("/api/dnc", json={"phone": "312-555-0188"}, headers=bearer(tokens["compliance"]))
    assert response.status_code == 201, response.text
    assert response.json()["phone_e164"] == "+13125550188" and response.json()["source"] == "api"


def test_logout_ends_the_session(api, runtime):
    csrf = _login(api).json()["csrf_token"]
    session_id = api.cookies["dialer_session"]
    assert api.post("/api/auth/logout").status_code == 403  # logout is an unsafe request too
    assert api.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    api.cookies.set("dialer_session", session_id)  # a stolen copy of the cookie no longer works
    assert api.get("/api/auth/me").status_code == 401
    assert [kind for kind, _ in _kinds(runtime, "auth.")] == ["auth.login", "auth.logout"]


def test_failed_logins_are_throttled_and_audited(api, runtime):
    for _ in range(accounts.LIMITS.account_failures):
        failed = _login(api, "ops", "not the password")
        assert failed.status_code == 401 and failed.json()["error"] == {
            "code": "login_failed",
            "message": "the username or password is not right",
        }
    throttled = _login(api, "ops")
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "login_throttled"
    assert int(throttled.headers["Retry-After"]) == 15 * 60
    assert "dialer_session" not in api.cookies
    events = _kinds(runtime, "auth.")
    assert [kind for kind, _ in events] == ["auth.login_failed"] * 5 + ["auth.login_throttled"]
    assert events[0][1]["client_ip"] == "testclient" and events[-1][1]["scope"] == "account"


def test_unknown_users_and_wrong_passwords_get_the_same_answer(api):
    unknown = _login(api, "nobody")
    wrong = _login(api, "ops", "not the password")
    assert unknown.status_code == wrong.status_code == 401 and unknown.json() == wrong.json()


def test_login_validation_errors_use_the_error_shape(api):
    response = api.post("/api/auth/login", json={"username": "ops"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "password" in error["message"]
    assert error["details"][0]["loc"] == ["body", "password"]
