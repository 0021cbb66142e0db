"""The web console under ``/console``: server-rendered Jinja2 pages with htmx, one per job.

Sales ops run campaigns, reps read their meetings, compliance audits; each page names one
:class:`bridge.api.access.Permission` and is refused (403 page) to a role that lacks it. Pages
call the same service functions as the REST API and the CLI. Front-end assets (htmx, Chart.js)
are vendored in ``static/vendor`` (``tools/vendor_console_assets.py``): nothing loads from a CDN.
"""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from bridge.console import (
    audit_pages,
    auth_pages,
    campaign_forms,
    campaign_live,
    campaign_pages,
    campaign_upload,
    crm_pages,
    dnc_pages,
    evidence,
    home,
    meeting_pages,
    users_pages,
)
from bridge.console.errors import render_page_error
from bridge.console.paths import CONSOLE, STATIC

__all__ = ["CONSOLE", "install_console", "render_page_error"]


def install_console(app: FastAPI) -> None:
    """Add the console's pages and its static files to ``app`` (kept out of ``/openapi.json``)."""
    router = APIRouter(include_in_schema=False)
    # campaign_forms before campaign_pages: /campaigns/new must match before /campaigns/{id}.
    campaigns = (campaign_forms, campaign_pages, campaign_upload, campaign_live)
    compliance = (audit_pages, dnc_pages, evidence)
    for module in (auth_pages, home, *campaigns, meeting_pages, crm_pages, *compliance, users_pages):
        router.include_router(module.router)
    app.include_router(router)
    app.mount(STATIC, StaticFiles(packages=[("bridge.console", "static")]), name="console-static")
