"""Wire-level helpers of the Realtime GA protocol: ids, server events and the error event.

Every server event is a JSON object with a ``type`` and a unique ``event_id``. Errors are
non-fatal ``error`` events; :class:`RealtimeError` carries one from where it is detected to the
connection, which sends it and keeps going.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from pydantic import ValidationError

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 21

_INVALID_VALUE_KINDS = frozenset(
    {
        "literal_error",
        "union_tag_invalid",
        "enum",
        "value_error",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
    }
)
"""Pydantic error types that mean a value of the right type but not an allowed one."""

JsonObject = dict[str, Any]
"""A decoded JSON object, as it travels on the wire."""


def new_id(prefix: str) -> str:
    """A fresh id shaped like the API's (``event_C9G8mqI3IucaojlVKE8Cs``).

    Args:
        prefix: the kind of object: ``event``, ``sess``, ``conv``, ``resp``, ``item`` or ``call``.
    """
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def server_event(event_type: str, **fields: Any) -> JsonObject:
    """A server event of ``event_type`` with a new ``event_id`` and the given fields."""
    return {"type": event_type, "event_id": new_id("event"), **fields}


class RealtimeError(Exception):
    """A client mistake reported to the client as an ``error`` event; the session stays open.

    Attributes:
        code: machine-readable code, e.g. ``unknown_parameter`` or ``response_cancel_not_active``.
        message: human-readable explanation.
        param: the offending parameter as a dotted path (``session.input_audio_format``), if any.
        event_id: the ``event_id`` of the client event that caused the error, if it had one.
        error_type: the error class; clients only ever cause ``invalid_request_error``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        event_id: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.event_id = event_id
        self.error_type = error_type

    def to_event(self) -> JsonObject:
        """The ``error`` server event reporting this error."""
        return server_event(
            "error",
            error={
                "type": self.error_type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "event_id": self.event_id,
            },
        )

    @classmethod
    def from_validation(cls, exc: ValidationError, data: object, *, event_id: str | None) -> RealtimeError:
        """Report the first problem pydantic found in the client event ``data``.

        Args:
            exc: the validation failure.
            data: the decoded client event that failed, used to name the parameter.
            event_id: the client event's ``event_id``, echoed back.
        """
        problem = exc.errors()[0]
        kind = problem["type"]
        param = _param_path(problem["loc"], data, missing=kind == "missing")
        if kind == "extra_forbidden":
            return cls("unknown_parameter", f"Unknown parameter: '{param}'.", param=param, event_id=event_id)
        if kind == "missing":
            return cls(
                "missing_required_parameter",
                f"Missing required parameter: '{param}'.",
                param=param,
                event_id=event_id,
            )
        if kind in _INVALID_VALUE_KINDS:
            message = f"Invalid value: {problem.get('input')!r} for '{param}'. {problem['msg']}."
            return cls("invalid_value", message, param=param, event_id=event_id)
        message = f"Invalid type for '{param}': {problem['msg']}."
        return cls("invalid_type", message, param=param, event_id=event_id)


def _param_path(loc: tuple[int | str, ...], data: object, *, missing: bool) -> str:
    """Turn a pydantic error location into the API's parameter path (``session.tools[0].name``).

    Pydantic puts union members and discriminator tags into the location (``voice``,
    ``literal['alloy',...]``); only steps that exist in the client's data, plus the key reported
    missing, are parameters.
    """
    path = ""
    node = data
    for index, step in enumerate(loc):
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            path += f"[{step}]"
            node = node[step]
        elif (isinstance(node, dict) and step in node) or (missing and index == len(loc) - 1):
            path += f".{step}" if path else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return path
