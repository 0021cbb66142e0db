"""Issue 10 item 3: the calendar feed's secret token never reaches the API server's access log.

Before the fix uvicorn logged ``GET /crm/calendar.ics?token=<secret> HTTP/1.1" 200`` verbatim, so
anyone reading the logs could subscribe to every rep's meetings.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bridge.access_log import RedactQuerySecrets, redact
from dialer.migrate import upgrade
from tests.waiting import wait_until

SECRET = "feed-secret-0123456789abcdefXYZ"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /crm/calendar.ics?token=abc HTTP/1.1", "GET /crm/calendar.ics?token=[redacted] HTTP/1.1"),
        ("/crm/calendar.ics?x=1&TOKEN=abc&y=2", "/crm/calendar.ics?x=1&TOKEN=[redacted]&y=2"),
        ("/crm/calendar.ics?token=", "/crm/calendar.ics?token=[redacted]"),
        ("/crm/calendar.ics?mytoken=abc", "/crm/calendar.ics?mytoken=abc"),  # another parameter
        ("/twilio/status?attempt=12", "/twilio/status?attempt=12"),
    ],
)
def test_redact_replaces_only_the_token_value(line, expected):
    assert redact(line) == expected


def test_the_filter_keeps_uvicorns_access_record_shape():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/crm/calendar.ics?token={SECRET}", "1.1", 200), None,
    )  # fmt: skip
    assert RedactQuerySecrets().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /crm/calendar.ics?token=[redacted] HTTP/1.1" 200'


def test_dialer_serve_logs_the_feed_request_without_its_token(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")} | {
        "DIALER_DATABASE_URL": database,
        "DIALER_BROKER_DIR": str(tmp_path / "broker"),
        "DIALER_API_PORT": "0",  # the kernel picks; uvicorn logs the port it got
        "DIALER_CALENDAR_FEED_TOKEN": SECRET,
    }
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "dialer.cli", "serve"], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr
        )
    try:

        def port() -> int | None:
            assert server.poll() is None, err.read_text()
            found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", err.read_text())
            return int(found.group(1)) if found else None

        base = f"http://127.0.0.1:{wait_until(port, timeout=60, what='dialer serve to listen')}"
        assert httpx.get(f"{base}/crm/calendar.ics", params={"token": SECRET}).status_code == 200
        assert httpx.get(f"{base}/crm/calendar.ics", params={"token": SECRET[:-1]}).status_code == 403
        logs = lambda: out.read_text() + err.read_text()  # noqa: E731
        wait_until(lambda: logs().count("/crm/calendar.ics") >= 2, what="both requests in the access log")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    text = logs()
    assert '"GET /crm/calendar.ics?token=[redacted] HTTP/1.1" 200' in text
    assert '"GET /crm/calendar.ics?token=[redacted] HTTP/1.1" 403' in text
    assert SECRET[:12] not in text
