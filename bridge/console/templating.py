"""Rendering console pages: one Jinja2 environment (autoescaped), the page context every template gets.

Every page's context carries ``principal`` (None on the login page), ``csrf_token`` (for forms and,
through ``<body hx-headers>``, every htmx request) and ``nav`` (the sections the role may open).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bridge.api.access import CSRF_COOKIE, GRANTS, Permission, Principal
from bridge.console.paths import CONSOLE, STATIC


@dataclass(frozen=True)
class Section:
    """A top-level console section in the navigation bar."""

    label: str
    href: str
    permission: Permission


SECTIONS: tuple[Section, ...] = (
    Section("Campaigns", f"{CONSOLE}/campaigns", Permission.CAMPAIGNS_READ),
    Section("My meetings", f"{CONSOLE}/meetings", Permission.MEETINGS_READ),
    Section("Audit", f"{CONSOLE}/audit", Permission.AUDIT_EXPORT),
    Section("DNC", f"{CONSOLE}/dnc", Permission.DNC_READ),
    Section("CRM sync", f"{CONSOLE}/crm", Permission.CRM_READ),
    Section("Users", f"{CONSOLE}/users", Permission.USERS_MANAGE),
)
"""The navigation, in order; a role sees the sections whose permission it holds."""

_environment = Environment(
    loader=PackageLoader("bridge.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
templates.env.globals.update(CONSOLE=CONSOLE, STATIC=STATIC)


def sections_for(principal: Principal | None) -> list[Section]:
    """The sections ``principal``'s role may open (none before login)."""
    if principal is None:
        return []
    return [section for section in SECTIONS if principal.role in GRANTS[section.permission]]


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """``template`` rendered with the page context plus ``context``."""
    page = {
        "principal": principal,
        "csrf_token": request.cookies.get(CSRF_COOKIE, ""),
        "nav": sections_for(principal),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, page | (context or {}), status_code=status_code)
