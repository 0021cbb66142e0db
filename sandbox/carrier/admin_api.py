"""Sandbox-only endpoints (unauthenticated JSON): what the carrier saw, call by call, and its faults."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.carrier.calls import Carrier


class AdminApi:
    """``GET /sandbox/stats``, ``/sandbox/calls``, ``/sandbox/calls/{sid}``; ``GET|POST /sandbox/faults``."""

    def __init__(self, carrier: Carrier):
        """Report on ``carrier``."""
        self._carrier = carrier

    def routes(self) -> list[Route]:
        """Starlette routes under ``/sandbox``."""
        return [
            Route("/sandbox/stats", self._stats, methods=["GET"]),
            Route("/sandbox/calls", self._calls, methods=["GET"]),
            Route("/sandbox/calls/{sid}", self._call, methods=["GET"]),
            Route("/sandbox/faults", self._faults, methods=["GET", "POST"]),
        ]

    async def _faults(self, request: Request) -> JSONResponse:
        faults = self._carrier.faults
        if request.method == "POST":
            try:
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object of the faults to change")
                faults.update(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(faults.as_dict())

    async def _stats(self, request: Request) -> JSONResponse:
        return JSONResponse(self._carrier.stats())

    async def _calls(self, request: Request) -> JSONResponse:
        return JSONResponse([record.as_admin_dict() for record in self._carrier.all_calls()])

    async def _call(self, request: Request) -> JSONResponse:
        record = self._carrier.get(request.path_params["sid"])
        if record is None:
            return JSONResponse({"error": "no such call"}, status_code=404)
        return JSONResponse(record.as_admin_dict())
