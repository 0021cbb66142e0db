"""JSON for the wire (media-stream and agent frames): orjson, one implementation for the hot paths.

orjson encodes and parses these small frames several times faster than the standard library
(its C implementation allocates one ``bytes`` and no intermediate objects); the text it writes is
compact, the same JSON ``json.dumps(separators=(",", ":"))`` would.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent.
    """
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    """Parse JSON text.

    Raises:
        ValueError: not JSON (``orjson.JSONDecodeError`` is a ``ValueError``).
    """
    return orjson.loads(text)
