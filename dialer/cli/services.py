"""``dialer serve | worker | beat | sandbox``: the long-running processes."""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from dialer.migrate import require_current_schema
from dialer.serving import UVICORN_OPTIONS
from dialer.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add the process commands to the top-level app."""

    @app.command("serve")
    def serve() -> None:
        """Run the API: carrier webhooks and the media-stream WebSocket (DIALER_API_HOST/PORT)."""
        import uvicorn

        settings = get_settings()
        require_current_schema(settings.database_url)
        uvicorn.run(
            "bridge.server_app:serving_app",
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            log_level="info",
            proxy_headers=True,
            ws=UVICORN_OPTIONS["ws"],  # the stack bench/bridge_load.py measured
            loop=UVICORN_OPTIONS["loop"],
            http=UVICORN_OPTIONS["http"],
        )

    @app.command("worker")
    def worker(
        concurrency: int = typer.Option(4, help="Parallel dial tasks."),
        beat: bool = typer.Option(
            False, "--beat", help="Also run the scheduler tick (single-machine setups)."
        ),
        queues: str | None = typer.Option(None, "--queues", help="celery (dialing) or crm; default both."),
    ) -> None:
        """Run a Celery worker that executes dial tasks and CRM sync (and optionally the tick)."""
        require_current_schema(get_settings().database_url)
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dialer.celery_app",
            "worker",
            "--loglevel",
            "info",
            "--concurrency",
            str(concurrency),
            "--pool",
            "threads",
        ]
        args += ["--beat"] if beat else []
        args += ["--queues", queues] if queues else []
        raise typer.Exit(subprocess.call(args, env=os.environ.copy()))

    @app.command("beat")
    def beat() -> None:
        """Run the Celery beat scheduler that fires the dial tick (DIALER_TICK_INTERVAL_SECONDS)."""
        require_current_schema(get_settings().database_url)
        args = [sys.executable, "-m", "celery", "-A", "dialer.celery_app", "beat", "--loglevel", "info"]
        raise typer.Exit(subprocess.call(args, env=os.environ.copy()))

    @app.command("sandbox", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def sandbox(ctx: typer.Context) -> None:
        """Run the sandbox carrier and agent (arguments are passed to `python -m sandbox`)."""
        raise typer.Exit(subprocess.call([sys.executable, "-m", "sandbox", *ctx.args]))
