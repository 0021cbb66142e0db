"""The web console under ``/console``: server-rendered Jinja2 pages with htmx, one per job.

Sales ops run campaigns, reps read their meetings, compliance audits; each page names one
:class:`bridge.api.access.Permission` and is refused (403 page) to a role that lacks it. Pages
call the same service functions as the REST API and the CLI. Front-end assets (htmx, Chart.js)
are vendored in ``static/vendor`` (``tools/vendor_console_assets.py``): nothing loads from a CDN.
"""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from bridge.console import audit_pages, auth_pages, dnc_pages, evidence, home
from bridge.console.errors import render_page_error
from bridge.console.paths import CONSOLE, STATIC

__all__ = ["CONSOLE", "install_console", "render_page_error"]


def install_console(app: FastAPI) -> None:
    """Add the console's pages and its static files to ``app`` (kept out of ``/openapi.json``)."""
    router = APIRouter(include_in_schema=False)
    for module in (auth_pages, home, audit_pages, dnc_pages, evidence):
        router.include_router(module.router)
    app.include_router(router)
    app.mount(STATIC, StaticFiles(packages=[("bridge.console", "static")]), name="console-static")
