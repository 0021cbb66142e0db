"""The API process: carrier webhooks, the media WebSocket, the reps' calendar feed, a health check.

Run with ``dialer serve`` or ``uvicorn bridge.app:create_app --factory``.
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge import media, webhooks
from bridge.agent import VoiceAgent
from bridge.agents import build_voice_agent
from bridge.amd import AmdBoard
from bridge.errors import install_error_handlers
from bridge.security import TwilioSignatureCheck
from bridge.state import BridgeState
from crm import routes as crm_routes
from dialer.runtime import Runtime, get_runtime


def create_app(runtime: Runtime | None = None, agent: VoiceAgent | None = None) -> FastAPI:
    """Build the API app.

    Args:
        runtime: defaults to the process runtime from settings.
        agent: defaults to the ``voice_agent`` backend of the settings (:mod:`bridge.agents`).
    """
    runtime = runtime or get_runtime()
    settings = runtime.settings
    if agent is None:
        agent = build_voice_agent(settings)
    app = FastAPI(title="AI campaign dialer: carrier bridge", docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.state.bridge = BridgeState(
        runtime=runtime,
        signatures=TwilioSignatureCheck(settings.twilio_auth_token.get_secret_value(), settings.public_url),
        agent=agent,
        amd=AmdBoard(),
    )
    app.state.runtime = runtime
    app.include_router(webhooks.router)
    app.include_router(media.router)
    app.include_router(crm_routes.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics of this process (:mod:`bridge.metrics`), text exposition format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness for load balancers and compose health checks."""
        return {"status": "ok"}

    return app
