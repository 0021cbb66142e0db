"""The sandbox carrier as one ASGI application: Twilio's Calls REST API plus sandbox inspection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.carrier.admin_api import AdminApi
from sandbox.carrier.calls import Carrier
from sandbox.carrier.config import CarrierConfig
from sandbox.carrier.faults import CarrierFaults
from sandbox.carrier.rest_api import CallsApi
from sandbox.carrier.rest_models import not_found_error


def create_carrier_app(config: CarrierConfig, faults: CarrierFaults | None = None) -> Starlette:
    """Build the sandbox carrier.

    Serve it with uvicorn (lifespan on, the default) and point the twilio SDK at it with
    ``client.api.base_url = "http://127.0.0.1:<port>"``. The :class:`~sandbox.carrier.calls.Carrier`
    is reachable as ``app.state.carrier``.

    Args:
        config: credentials and timing.
        faults: faults to inject from the start (none by default; ``POST /sandbox/faults`` changes them).

    Returns:
        The ASGI application.
    """
    carrier = Carrier(config, faults)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=config.webhook_timeout_seconds) as client:
            carrier.start(client)
            try:
                yield
            finally:
                await carrier.shutdown()

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        error = not_found_error(request.url.path)
        return JSONResponse(error.body(), status_code=error.status)

    app = Starlette(
        routes=[*CallsApi(carrier).routes(), *AdminApi(carrier).routes()],
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
    app.state.carrier = carrier
    return app
