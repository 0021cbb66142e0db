"""Refresh the console's vendored front-end assets from the npm registry (no CDN at run time).

    python tools/vendor_console_assets.py

Each package is fetched with ``npm pack <name>@<version>`` (the registry's integrity is checked by
npm), its built file and licence are copied into ``bridge/console/static/vendor/``, and
``VENDORED.json`` records the version and the file's SHA-256 (tests/console checks the files
against it). Change a version here, run this, commit the result.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "bridge" / "console" / "static" / "vendor"
PACKAGES = {
    # name: (version, built file in the tarball, licence file, saved as)
    "htmx.org": ("2.0.11", "package/dist/htmx.min.js", "package/LICENSE", "htmx.min.js"),
    "chart.js": ("4.6.2", "package/dist/chart.umd.min.js", "package/LICENSE.md", "chart.umd.min.js"),
}


def _pack(name: str, version: str, into: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--silent"], cwd=into, check=True, capture_output=True, text=True
    )
    return into / out.stdout.strip().splitlines()[-1]


def main() -> None:
    """Fetch each package, copy its file and licence, write ``VENDORED.json``."""
    record = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, built, licence, saved) in PACKAGES.items():
            with tarfile.open(_pack(name, version, Path(tmp))) as tar:
                data = tar.extractfile(built).read()  # type: ignore[union-attr]
                notice = tar.extractfile(licence).read()  # type: ignore[union-attr]
            (VENDOR / saved).write_bytes(data)
            (VENDOR / f"{Path(saved).stem.split('.')[0]}.LICENSE.txt").write_bytes(notice)
            record[saved] = {"package": name, "version": version, "sha256": hashlib.sha256(data).hexdigest()}
    (VENDOR / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
