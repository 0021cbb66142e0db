"""The API app as a server process runs it: ``uvicorn bridge.server_app:serving_app --factory``.

``dialer serve`` (so the compose file's ``api``), the demo's API server and
``bench/bridge_load.py`` start it this way, with the options of :mod:`dialer.serving`.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from bridge.app import create_app
from compliance.zones import zip_state


def serving_app() -> FastAPI:
    """:func:`bridge.app.create_app` for a server process, its heap settled before the first call.

    It loads what every call needs before the first one (the ZIP tables behind each call's time
    zones), then freezes the heap (:func:`gc.freeze`): a full collection of the ~400 k objects
    alive at start took 450-850 ms here, and after the freeze the collector never walks them
    again, so no call's audio waits behind it. Not for tests, which build many apps in one process.
    """
    app = create_app()
    zip_state("60601")
    gc.collect()
    gc.freeze()
    return app
