"""One error tree: a documented root for every product error, one CLI line, one API JSON shape."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

import bridge
import compliance
import crm
import dialer
import dialer.errors as errors_module
from bridge.app import create_app
from compliance import ComplianceError, PhoneNumberError
from dialer.errors import PRODUCT_ERRORS, DialerError, NotFoundError, code_of, status_of
from dialer.migrate import head_revision, upgrade
from tests.fakes.agent import FakeVoiceAgent

INTERNAL = {
    # Control flow inside one module, turned into a product error before it leaves it.
    "dialer.consent.csv_files.CellError": "becomes ImportFileError with file, row and column",
    "dialer.leads._rows._Reject": "becomes a rejected row of the import report",
    "dialer.leads._values.ValueProblem": "becomes a rejected row of the import report",
}


def _product_exceptions() -> list[type[BaseException]]:
    found = []
    for package in (dialer, bridge, crm, compliance):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name.endswith(".__main__"):
                continue  # running it is the command line
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == info.name:
                    found.append(cls)
    return found


def test_every_error_the_product_defines_derives_from_a_documented_root():
    classes = _product_exceptions()
    assert len(classes) > 15  # the walk found the tree
    strays = [
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if not issubclass(c, PRODUCT_ERRORS) and f"{c.__module__}.{c.__qualname__}" not in INTERNAL
    ]
    assert strays == []
    tree = errors_module.__doc__ or ""
    undocumented = [c.__name__ for c in classes if issubclass(c, DialerError) and c.__name__ not in tree]
    assert undocumented == []


def test_errors_carry_their_status_and_a_stable_code():
    assert (status_of(NotFoundError("x")), code_of(NotFoundError("x"))) == (404, "not_found")
    assert (status_of(PhoneNumberError("x")), code_of(PhoneNumberError("x"))) == (422, "phone_number")
    assert issubclass(PhoneNumberError, ComplianceError) and issubclass(PhoneNumberError, ValueError)


def _dialer(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env["DIALER_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "dialer.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_on_an_unmigrated_database_says_to_upgrade_and_creates_nothing(tmp_path):
    database = tmp_path / "fresh.db"
    done = _dialer(tmp_path, f"sqlite:///{database}", "campaigns", "list")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: the database sqlite:///{database} has no schema yet: run `dialer db upgrade` first"
    ]
    assert "Traceback" not in done.stderr and not database.exists()


def test_a_command_on_an_older_schema_names_both_revisions(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    done = _dialer(tmp_path, url, "campaigns", "list")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "revision 0005" in line and f"needs {head_revision()}" in line and "dialer db upgrade" in line


def test_an_unreachable_database_is_one_line_with_the_address_and_no_password(tmp_path):
    done = _dialer(tmp_path, "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/x", "campaigns", "list")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the database postgresql+psycopg://postgres:***@127.0.0.1:1/x")
    assert "s3cret" not in done.stderr


def test_a_compliance_error_reaches_the_user_as_one_line(run):
    done = run("dnc", "add", "555-0101")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: '555-0101' is not a valid phone number")


@pytest.fixture
def client(runtime):
    return TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))


def test_api_errors_share_one_json_shape(client):
    unsigned = client.post("/twilio/status?attempt=1", data={"CallSid": "CA1", "CallStatus": "ringing"})
    assert unsigned.status_code == 403
    assert unsigned.json() == {
        "error": {"code": "access_denied", "message": "invalid or missing X-Twilio-Signature"}
    }
    no_route = client.get("/no/such/page")
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "not_found"
    bad_query = client.get("/crm/calendar.ics", params={"token": "x"})
    assert bad_query.status_code == 404  # no feed token configured: the feed does not exist
    assert bad_query.json() == {"error": {"code": "not_found", "message": "the calendar feed is not enabled"}}
    path = "/twilio/status?attempt=notanumber"
    form = {"CallSid": "CA1", "CallStatus": "ringing"}
    signature = RequestValidator("sandbox-auth-token").compute_signature(
        f"https://dialer.example.com{path}", form
    )
    invalid = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_request"
    assert "attempt" in invalid.json()["error"]["message"]
