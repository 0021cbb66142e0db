"""Faults the sandbox carrier injects on purpose, so that a rehearsal proves the app survives them.

Real carriers deliver webhooks more than once, out of order, late, or not at all, and a REST
client can die with its request in flight. Every fault here is off by default; they are set from
the command line (``python -m sandbox --duplicate-callbacks ...``) or changed while the carrier
runs with ``POST /sandbox/faults`` (a JSON object of the fields to change; the answer is the
whole set, as ``GET /sandbox/faults`` gives it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

HoldCreates = Literal["before_create", "after_create"]
"""Where a held ``POST Calls.json`` waits: before the call exists, or after it was created."""


@dataclass
class CarrierFaults:
    """The faults in force (mutable: the admin API changes them on a running carrier).

    Attributes:
        duplicate_callbacks: every status callback and every AMD webhook is delivered twice; the
            second status delivery is a replay without ``SequenceNumber`` and ``Timestamp``.
        shuffle_callbacks: a call's status callbacks go out in swapped pairs (1, 0, 3, 2, ...), so
            each arrives before the one that preceded it; an odd last one goes out alone.
        drop_final_status: the terminal status callback (``completed`` event) is never sent.
        amd_delay_ms: extra ms before the async AMD verdict is sent (a verdict delivered late).
        hold_creates: hold every ``POST Calls.json`` here until this is cleared: ``before_create``
            (the carrier has not acted on it; if the client goes away meanwhile, the request is
            dropped, as if it never arrived) or ``after_create`` (the call exists and runs; only
            the response waits). None: answer at once.
    """

    duplicate_callbacks: bool = False
    shuffle_callbacks: bool = False
    drop_final_status: bool = False
    amd_delay_ms: int = 0
    hold_creates: HoldCreates | None = None

    def as_dict(self) -> dict[str, Any]:
        """The public fields, as JSON."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Change some faults (held requests see the change within 50 ms).

        Raises:
            ValueError: for an unknown field or a value of the wrong type.
        """
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            if name == "hold_creates":
                if value not in (None, "before_create", "after_create"):
                    raise ValueError("hold_creates must be null, 'before_create' or 'after_create'")
            elif name == "amd_delay_ms":
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError("amd_delay_ms must be a non-negative integer")
            elif not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        for name, value in changes.items():
            setattr(self, name, value)
