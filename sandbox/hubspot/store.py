"""The sandbox HubSpot's records: CRM objects with properties, associations, and request counts."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT_TYPES = ("contacts", "calls", "meetings")
UNIQUE_PROPERTIES = {"contacts": ("email",)}
"""Properties with unique values per object type (what ``idProperty`` may name in an upsert)."""
ASSOCIATION_TYPES = {("calls", 194), ("meetings", 200)}
"""HubSpot-defined association type ids to contacts: 194 call -> contact, 200 meeting -> contact."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class CrmObject:
    """One record: ``id`` is a numeric string as HubSpot's are."""

    id: str
    object_type: str
    properties: dict[str, str]
    created_at: str
    updated_at: str

    def public(self) -> dict[str, Any]:
        """The ``SimplePublicObject`` shape HubSpot answers with."""
        properties = {
            **self.properties,
            "hs_object_id": self.id,
            "createdate": self.created_at,
            "hs_lastmodifieddate": self.updated_at,
        }
        return {
            "id": self.id,
            "properties": properties,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
        }


@dataclass
class Store:
    """Every record, thread-safe; ids from one counter like a portal's."""

    objects: dict[str, dict[str, CrmObject]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    associations: list[dict[str, Any]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def create(self, object_type: str, properties: dict[str, str]) -> CrmObject:
        """A new record of ``object_type``."""
        stamp = _now()
        record = CrmObject(str(next(self._ids)), object_type, dict(properties), stamp, stamp)
        self.objects[object_type][record.id] = record
        return record

    def find(self, object_type: str, name: str, value: str) -> list[CrmObject]:
        """Records whose property ``name`` equals ``value`` (HubSpot's ``EQ``; case-insensitive for email)."""
        fold = name == "email"
        want = value.lower() if fold else value
        return [
            r
            for r in self.objects[object_type].values()
            if (r.properties.get(name, "").lower() if fold else r.properties.get(name)) == want
        ]

    def snapshot(self) -> dict[str, Any]:
        """Everything, for ``GET /sandbox/objects``."""
        listed = {t: [r.public() for r in records.values()] for t, records in self.objects.items()}
        return {**listed, "associations": list(self.associations)}
