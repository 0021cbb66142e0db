"""Where the console keeps a lead upload between its steps: upload, mapping preview, import, report.

Each upload gets a private folder (mode 0700) named by a random token under :data:`UPLOAD_ROOT`,
holding the file under its own base name (so the importer's messages and its
``<stem>.rejected.csv`` report name it), ``upload.json`` (campaign, uploader, name) and, once
imported, ``result.json``. Only the uploader can open it, and only on its campaign's pages.
Folders older than :data:`KEEP` are removed when the next upload is stored. The folder is local
to the API process's machine: behind a load balancer the steps of one upload need the same host
(sticky sessions) or a shared ``UPLOAD_ROOT``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dialer.errors import NotFoundError
from dialer.leads.report import rejected_report_path

UPLOAD_ROOT = Path(tempfile.gettempdir()) / f"dialer-console-uploads-{os.getuid()}"
"""The uploads' parent folder."""

KEEP = timedelta(hours=24)
"""How long an upload's folder (file, result, report) is kept."""

_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class StoredUpload:
    """One upload's folder and what it is for.

    Attributes:
        token: the folder's random name (22 URL-safe characters), the upload's id in URLs.
        name: the uploaded file's base name (:func:`bridge.api.leads.upload_name`).
    """

    token: str
    folder: Path
    name: str
    campaign_id: int
    uploaded_by: str

    @property
    def path(self) -> Path:
        """The uploaded file."""
        return self.folder / self.name

    @property
    def report_path(self) -> Path:
        """Where the importer writes its rejected-rows report (present once an import rejected rows)."""
        return rejected_report_path(self.path)

    def save_result(self, result: dict[str, Any]) -> None:
        """Keep what the import did (shown by the result page)."""
        (self.folder / "result.json").write_text(json.dumps(result), encoding="utf-8")

    def result(self) -> dict[str, Any] | None:
        """What the import did, or None before it ran."""
        path = self.folder / "result.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _prune(root: Path, now: float) -> None:
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.is_dir() and now - folder.stat().st_mtime > KEEP.total_seconds():
            shutil.rmtree(folder, ignore_errors=True)


def new_upload(*, campaign_id: int, name: str, uploaded_by: str, root: Path = UPLOAD_ROOT) -> StoredUpload:
    """A fresh, empty upload folder (the caller writes the file to :attr:`StoredUpload.path`)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _prune(root, time.time())
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(mode=0o700)
    meta = {"name": name, "campaign_id": campaign_id, "uploaded_by": uploaded_by}
    (folder / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
    return StoredUpload(token, folder, name, campaign_id, uploaded_by)


def open_upload(token: str, *, campaign_id: int, username: str, root: Path = UPLOAD_ROOT) -> StoredUpload:
    """The upload ``token`` of ``campaign_id``, made by ``username``.

    Raises:
        NotFoundError: no such upload (malformed, expired, another campaign's or another user's).
    """
    missing = NotFoundError(
        f"lead upload {token!r} does not exist (uploads are kept {KEEP}); upload the file again"
    )
    if not _TOKEN.fullmatch(token):
        raise missing
    try:
        meta = json.loads((root / token / "upload.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise missing from None
    if meta.get("campaign_id") != campaign_id or meta.get("uploaded_by") != username:
        raise missing
    return StoredUpload(token, root / token, str(meta["name"]), campaign_id, username)
