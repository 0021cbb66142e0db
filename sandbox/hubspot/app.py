"""A HubSpot stand-in for rehearsals and tests: the CRM v3 endpoints the dialer's CRM sync uses.

Request and response shapes follow HubSpot's API reference (CRM v3 objects):

- ``POST /crm/v3/objects/contacts/batch/upsert``: ``{"inputs": [{"idProperty": "email", "id":
  "<email>", "properties": {...}}]}`` -> 200 ``{"status": "COMPLETE", "results": [<object> +
  "new": bool], "startedAt", "completedAt"}``; only a unique property may be the ``idProperty``;
- ``POST /crm/v3/objects/{contacts|calls|meetings}/search``: ``{"filterGroups": [{"filters":
  [{"propertyName", "operator": "EQ", "value"}]}], "properties", "limit"}`` -> 200 ``{"total",
  "results"}``;
- ``POST /crm/v3/objects/{contacts|calls|meetings}``: ``{"properties": {...}, "associations":
  [{"to": {"id"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId"}]}]}``
  -> 201 ``<object>``; an association must name an existing contact and the type HubSpot
  defines for the pair (194 call -> contact, 200 meeting -> contact).

``<object>`` is ``{"id", "properties", "createdAt", "updatedAt", "archived"}``. Errors are
HubSpot's ``{"status": "error", "message", "correlationId", "category"}``: 401
``INVALID_AUTHENTICATION`` without the right ``Authorization: Bearer`` token, 400
``VALIDATION_ERROR`` for a bad body, 404 for an unknown path.

For rehearsing outages, ``POST /sandbox/faults`` with ``{"skip": 0, "fail": N, "status": 503,
"mode": "before" | "after" | "timeout", "delay_ms": 0}`` lets ``skip`` API requests through, then
makes the next N fail: ``before``
answers ``status`` without doing anything, ``after`` does the work and then answers ``status``
(an unknown outcome for the client), ``timeout`` does the work and answers only after
``delay_ms``. ``GET /sandbox/objects`` lists every record and association, ``GET /sandbox/stats``
counts requests by ``"<METHOD> <path> <status>"``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.hubspot.store import ASSOCIATION_TYPES, OBJECT_TYPES, UNIQUE_PROPERTIES, Store

DEFAULT_TOKEN = "sandbox-hubspot-token"


class _Refused(Exception):
    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message


def _error(status: int, category: str, message: str) -> JSONResponse:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    return JSONResponse(body, status_code=status)


@dataclass
class Faults:
    """Failures to inject into the ``fail`` API requests after the next ``skip``."""

    skip: int = 0
    fail: int = 0
    status: int = 503
    mode: str = "before"
    delay_ms: int = 0


def _properties(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise _Refused(400, "VALIDATION_ERROR", f"{where}: properties must be an object")
    return {k: "" if v is None else str(v) for k, v in raw.items()}


class HubSpotSandbox:
    """The app's state and handlers (see the module docstring)."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.store = Store()
        self.faults = Faults()

    async def _json(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "VALIDATION_ERROR", "Invalid input JSON on line 1") from None
        if not isinstance(body, dict):
            raise _Refused(400, "VALIDATION_ERROR", "the body must be a JSON object")
        return body

    def upsert(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /crm/v3/objects/contacts/batch/upsert``: create or update by a unique property."""
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise _Refused(400, "VALIDATION_ERROR", "inputs: must be a non-empty list")
        started, results = datetime.now(UTC).isoformat().replace("+00:00", "Z"), []
        for n, item in enumerate(inputs):
            prop, value = item.get("idProperty"), item.get("id")
            if prop not in UNIQUE_PROPERTIES["contacts"] or not isinstance(value, str) or not value:
                raise _Refused(400, "VALIDATION_ERROR", f"inputs[{n}]: idProperty must be a unique property")
            properties = _properties(item.get("properties", {}), f"inputs[{n}]") | {prop: value}
            found = self.store.find("contacts", prop, value)
            if found:
                found[0].properties.update(properties)
                results.append(found[0].public() | {"new": False})
            else:
                results.append(self.store.create("contacts", properties).public() | {"new": True})
        done = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return 200, {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": done}

    def search(self, object_type: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /crm/v3/objects/<type>/search`` with ``EQ`` filters."""
        groups = body.get("filterGroups") or []
        matches = list(self.store.objects[object_type].values())
        for group in groups:  # one group in the dialer's searches: every filter must hold
            for f in group.get("filters", []):
                if f.get("operator") != "EQ":
                    raise _Refused(
                        400, "VALIDATION_ERROR", f"operator {f.get('operator')!r} is not supported here"
                    )
                ids = {r.id for r in self.store.find(object_type, f["propertyName"], str(f.get("value")))}
                matches = [r for r in matches if r.id in ids]
        limit = int(body.get("limit") or 10)
        return 200, {"total": len(matches), "results": [r.public() for r in matches[:limit]]}

    def create(self, object_type: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /crm/v3/objects/<type>``: a new record with its associations to contacts."""
        properties = _properties(body.get("properties", {}), "properties")
        links = []
        for n, association in enumerate(body.get("associations") or []):
            to = str((association.get("to") or {}).get("id", ""))
            if to not in self.store.objects["contacts"]:
                raise _Refused(400, "VALIDATION_ERROR", f"associations[{n}].to.id: no contact {to!r}")
            for spec in association.get("types") or []:
                pair = (object_type, spec.get("associationTypeId"))
                if spec.get("associationCategory") != "HUBSPOT_DEFINED" or pair not in ASSOCIATION_TYPES:
                    raise _Refused(
                        400, "VALIDATION_ERROR", f"associations[{n}]: invalid association type {spec}"
                    )
                links.append((to, spec["associationTypeId"]))
        record = self.store.create(object_type, properties)
        for to, type_id in links:
            self.store.associations.append(
                {
                    "from": {"type": object_type, "id": record.id},
                    "to": {"type": "contacts", "id": to},
                    "typeId": type_id,
                }
            )
        return 201, record.public()

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")  # crm v3 objects <type> [batch upsert | search]
        if len(parts) < 4 or parts[:3] != ["crm", "v3", "objects"] or parts[3] not in OBJECT_TYPES:
            raise _Refused(404, "OBJECT_NOT_FOUND", f"no such endpoint: {method} {path}")
        object_type, rest = parts[3], parts[4:]
        if method == "POST" and rest == ["batch", "upsert"] and object_type == "contacts":
            return self.upsert(body)
        if method == "POST" and rest == ["search"]:
            return self.search(object_type, body)
        if method == "POST" and not rest:
            return self.create(object_type, body)
        raise _Refused(404, "OBJECT_NOT_FOUND", f"no such endpoint: {method} {path}")

    async def api(self, request: Request) -> Response:
        """Every ``/crm/v3/...`` request: auth, faults, then the endpoint."""
        key = f"{request.method} {request.url.path}"
        if request.headers.get("authorization") != f"Bearer {self.token}":
            self.store.requests[f"{key} 401"] += 1
            return _error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
        with self.store.lock:
            fault = None
            if self.faults.skip > 0:
                self.faults.skip -= 1
            elif self.faults.fail > 0:
                self.faults.fail -= 1
                fault = Faults(0, 1, self.faults.status, self.faults.mode, self.faults.delay_ms)
        if fault is not None and fault.mode == "before":
            self.store.requests[f"{key} {fault.status}"] += 1
            return _error(fault.status, "SERVICE_UNAVAILABLE", "sandbox fault: the request was not processed")
        try:
            body = await self._json(request)
            with self.store.lock:
                status, answer = self._route(request.method, request.url.path, body)
        except _Refused as refused:
            self.store.requests[f"{key} {refused.status}"] += 1
            return _error(refused.status, refused.category, refused.message)
        if fault is not None and fault.mode == "timeout":
            await asyncio.sleep(fault.delay_ms / 1000)
        elif fault is not None:  # "after": done, but the client is told it failed
            self.store.requests[f"{key} {fault.status}"] += 1
            return _error(fault.status, "SERVICE_UNAVAILABLE", "sandbox fault after processing")
        self.store.requests[f"{key} {status}"] += 1
        return JSONResponse(answer, status_code=status)

    async def set_faults(self, request: Request) -> Response:
        """``POST /sandbox/faults``: the failures to inject (see the module docstring)."""
        body = await request.json()
        if body.get("mode", "before") not in ("before", "after", "timeout"):
            return JSONResponse({"error": "mode must be before, after or timeout"}, status_code=400)
        with self.store.lock:
            self.faults = Faults(
                **{k: body[k] for k in ("skip", "fail", "status", "mode", "delay_ms") if k in body}
            )
        return JSONResponse({"fail": self.faults.fail})

    async def objects(self, request: Request) -> Response:
        """``GET /sandbox/objects``: every record and association."""
        with self.store.lock:
            return JSONResponse(self.store.snapshot())

    async def stats(self, request: Request) -> Response:
        """``GET /sandbox/stats``: requests by ``"<METHOD> <path> <status>"``."""
        return JSONResponse(dict(self.store.requests))


def create_hubspot_app(token: str = DEFAULT_TOKEN) -> Starlette:
    """The sandbox HubSpot as an ASGI app; ``app.state.hubspot`` is its :class:`HubSpotSandbox`."""
    sandbox = HubSpotSandbox(token)
    app = Starlette(
        routes=[
            Route("/sandbox/faults", sandbox.set_faults, methods=["POST"]),
            Route("/sandbox/objects", sandbox.objects, methods=["GET"]),
            Route("/sandbox/stats", sandbox.stats, methods=["GET"]),
            Route("/crm/{path:path}", sandbox.api, methods=["GET", "POST", "PATCH", "DELETE"]),
        ]
    )
    app.state.hubspot = sandbox
    return app
