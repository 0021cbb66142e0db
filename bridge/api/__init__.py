"""The REST API under ``/api/`` (its OpenAPI document is the app's ``/openapi.json``).

Routes are thin: they authenticate and check the role (:mod:`bridge.api.access`, the one place
that does), then call the same service functions the CLI calls, in one transaction each.
Errors answer in the app's one shape (:mod:`bridge.errors`).
"""

from fastapi import APIRouter

from bridge.api import audit, auth_routes, campaigns, dnc, leads, outcomes, users

__all__ = ["router"]

router = APIRouter()
for _module in (auth_routes, campaigns, leads, outcomes, dnc, audit, users):
    router.include_router(_module.router)
