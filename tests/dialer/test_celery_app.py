"""The Celery app is built lazily: importing it reads no settings and creates nothing."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
import dialer.tasks
from dialer.celery_app import app
print("imported", os.path.exists(sys.argv[1]))
print("broker", app.conf.broker_url, os.path.isdir(os.path.join(sys.argv[1], "queue")))
print("tasks", " ".join(sorted(t for t in app.tasks if t.startswith("dialer."))))
"""


def _probe(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "broker")],
        cwd=tmp_path,
        env={**clean, "DIALER_BROKER_DIR": str(tmp_path / "broker"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_app_creates_no_folder_and_configures_on_first_use(tmp_path):
    done = _probe(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "imported False"  # the import made no broker folder
    assert lines[1] == "broker localfs:// True"  # first use read the settings and made it
    assert lines[2] == "tasks dialer.audit_seal dialer.dial dialer.dial_batch dialer.tick"


def test_settings_are_not_read_at_import(tmp_path):
    done = _probe(tmp_path, DIALER_DIAL_CPS="not-a-number")
    assert "imported False" in done.stdout  # the bad setting did not stop the import
    assert done.returncode != 0 and "dial_cps" in done.stderr.lower()  # first use refused it


WORKER_PROBE = """
from dialer.celery_app import app
app.loader.import_default_modules()  # what `celery -A dialer.celery_app worker` does at start
print(" ".join(sorted(t for t in app.tasks if t.startswith(("dialer.", "crm.")))))
entry = app.conf.beat_schedule["crm-outbox-drain"]
print(entry["task"], entry["schedule"])
"""


def test_a_worker_loads_the_outbox_drain_and_beat_runs_it(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env = {
        **clean,
        "DIALER_BROKER_DIR": str(tmp_path / "broker"),
        "DIALER_CRM__OUTBOX__DRAIN_INTERVAL_SECONDS": "7",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    tasks, schedule = done.stdout.splitlines()
    assert "crm.outbox_drain" in tasks.split() and "dialer.tick" in tasks.split()
    assert schedule == "crm.outbox_drain 7.0"
