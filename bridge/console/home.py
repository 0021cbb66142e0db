"""The console's front door: each role lands on the section of its job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from bridge.api.access import Permission, Principal, allow
from bridge.console.paths import CONSOLE
from bridge.console.templating import SECTIONS
from dialer.models import Role

router = APIRouter()

LANDING: dict[Role, str] = {
    Role.ADMIN: f"{CONSOLE}/campaigns",
    Role.OPS: f"{CONSOLE}/campaigns",
    Role.REP: f"{CONSOLE}/meetings",
    Role.COMPLIANCE: f"{CONSOLE}/audit",
}
"""Where each role starts."""

assert set(LANDING.values()) <= {section.href for section in SECTIONS}


@router.get("/")
def root() -> RedirectResponse:
    """The app's root opens the console."""
    return RedirectResponse(CONSOLE, status_code=307)


@router.get(CONSOLE)
def landing(principal: Annotated[Principal, Depends(allow(Permission.ACCOUNT))]) -> RedirectResponse:
    """Send the user to their role's section (the login form first when not logged in)."""
    return RedirectResponse(LANDING[principal.role], status_code=303)
