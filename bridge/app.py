"""The API process: the REST API, carrier webhooks, the media WebSocket, the calendar feed, health.

This is the one ASGI app. ``/openapi.json`` documents the REST API (``/api/...``), the calendar
feed and the health check; the carrier's webhooks and media stream are left out of it (they are
Twilio's contract, authenticated by its signature, not the API's).

Run with ``dialer serve`` or ``uvicorn bridge.app:create_app --factory``. The factory puts a
filter on uvicorn's loggers that keeps secret query parameters out of the access log
(:mod:`bridge.access_log`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bridge import api, console, media, webhooks
from bridge.access_log import install_redaction
from bridge.agent import VoiceAgent
from bridge.agents import build_voice_agent
from bridge.amd import AmdBoard
from bridge.errors import install_error_handlers
from bridge.preopen import PreopenedAgents
from bridge.security import TwilioSignatureCheck
from bridge.state import BridgeState
from compliance.jurisdiction import resolve_jurisdiction
from crm import routes as crm_routes
from dialer.runtime import Runtime, get_runtime

WARM_UP_NUMBER = "+12025550100"
"""A number whose zones are resolved once at start-up (the phone-number metadata loads lazily)."""


def _warm_up(runtime: Runtime) -> None:
    """Load what the first call would otherwise wait for: zone data and a database connection.

    The phone-number time-zone and geocoder data took about 1.2 s on first use here, which made the
    first call of a fresh API process miss the TSR's 2 seconds.
    """
    resolve_jurisdiction(WARM_UP_NUMBER, None)
    runtime.run_in_transaction(lambda session, _: session.execute(text("SELECT 1")))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Warm up before the first request; close the agent sessions still waiting for a stream at the end."""
    await asyncio.to_thread(_warm_up, app.state.runtime)
    yield
    await app.state.bridge.preopened.aclose()


def create_app(runtime: Runtime | None = None, agent: VoiceAgent | None = None) -> FastAPI:
    """Build the API app.

    Args:
        runtime: defaults to the process runtime from settings.
        agent: defaults to the ``voice_agent`` backend of the settings (:mod:`bridge.agents`).
    """
    install_redaction()  # the calendar feed's ?token= never reaches the access log
    runtime = runtime or get_runtime()
    settings = runtime.settings
    if agent is None:
        agent = build_voice_agent(settings)
    app = FastAPI(
        title="AI campaign dialer",
        version="1",
        summary="Campaigns, lead imports, attempts, meetings, dispositions, DNC and the audit log.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    install_error_handlers(app, pages=console.render_page_error)
    app.state.bridge = BridgeState(
        runtime=runtime,
        signatures=TwilioSignatureCheck(settings.twilio_auth_token.get_secret_value(), settings.public_url),
        agent=agent,
        amd=AmdBoard(),
        preopened=PreopenedAgents(settings.bridge.agent_preopen_timeout_ms / 1000),
    )
    app.state.runtime = runtime
    app.include_router(api.router)
    app.include_router(webhooks.router, include_in_schema=False)
    app.include_router(media.router, include_in_schema=False)
    app.include_router(crm_routes.router, tags=["calendar"])
    console.install_console(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics of this process (:mod:`bridge.metrics`), text exposition format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness for load balancers and compose health checks."""
        return {"status": "ok"}

    return app
