"""How the API process is served: uvicorn's options, in one place for every way it is started.

``dialer serve`` (so the compose file's ``api`` and the image's default command), the demo's API
server, and ``bench/bridge_load.py`` (the bridge and its bare-relay baseline alike) all take
them from here, so what the benchmark measures is what production runs.

- ``loop="uvloop"``: the media path is a few small WebSocket messages per 20 ms frame and call,
  so the event loop's own cost per callback and socket write dominates; uvloop's is a fraction of
  asyncio's.
- ``ws="websockets-sansio"``: uvicorn's maintained implementation on the ``websockets`` library
  (its ``websockets`` choice is the library's deprecated legacy API; ``wsproto`` adds a
  dependency and pauses reads around every message the same way).
- ``http="httptools"``: the webhooks' parser (the C one; ``h11`` is pure Python).
"""

from __future__ import annotations

UVICORN_OPTIONS: dict[str, str] = {"ws": "websockets-sansio", "loop": "uvloop", "http": "httptools"}
"""uvicorn's WebSocket implementation, event loop and HTTP parser."""


def uvicorn_cli_args(options: dict[str, str] | None = None) -> list[str]:
    """The options as ``uvicorn`` command-line arguments (``--ws X --loop Y --http Z``)."""
    return [arg for key, value in (options or UVICORN_OPTIONS).items() for arg in (f"--{key}", value)]
