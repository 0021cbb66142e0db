"""The embedded broker: kombu's filesystem transport with atomic message writes.

Kombu's filesystem channel creates a message file and then writes it; a consumer polling the
folder can move the file in between and read an empty payload (the worker then dies on invalid
JSON). Here each message is written under a temporary name that consumers ignore and renamed into
place, which is atomic on one filesystem. Importing this module registers the ``localfs://``
broker URL scheme.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "localfs"


class AtomicFilesystemChannel(filesystem.Channel):
    """A filesystem channel whose messages appear in the queue folder only once complete."""

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]  # filesystem.Channel._put's signature
        """Write ``payload`` to a hidden temporary file, then rename it into the queue folder."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    """Kombu transport for ``localfs://`` URLs."""

    Channel = AtomicFilesystemChannel


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:AtomicFilesystemTransport"
