"""The console's tests reuse the REST API's users of each role and its test client of the one app."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, ROLES, accounts_db, api, users  # noqa: F401 - fixtures


@pytest.fixture
def logged_in(api: TestClient) -> Iterator[dict[str, TestClient]]:  # noqa: F811 - the fixture above
    """Log a fresh client in through the login form per role: ``{"ops": client, ...}``."""
    clients = {}
    for role in ROLES:
        client = TestClient(api.app, base_url="https://testserver")
        answer = client.post(
            "/console/login", data={"username": role, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        clients[role] = client
    yield clients
    for client in clients.values():
        client.close()


def csrf(client: TestClient) -> str:
    """The CSRF token the console renders into the client's forms."""
    return client.cookies["dialer_csrf"]
