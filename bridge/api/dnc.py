"""``/api/dnc``: the internal do-not-call list (compliance and admin), read and added to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.params import phone_e164
from bridge.api.schemas import AfterId, DncCreate, DncPublic, Limit
from dialer.consent import add_internal_dnc
from dialer.listings import list_internal_dnc

router = APIRouter(prefix="/api/dnc", tags=["dnc"])
ERRORS: dict[int | str, dict[str, object]] = {401: {}, 403: {}}


@router.get("", response_model=list[DncPublic], responses=ERRORS)
async def list_dnc(
    request: Request,
    _: Annotated[Principal, Depends(allow(Permission.DNC_READ))],
    after_id: AfterId = None,
    limit: Limit = 100,
) -> list[DncPublic]:
    """Internal DNC entries by id (page with ``after_id``)."""

    def work(session: Session, now: datetime) -> list[DncPublic]:
        return [
            DncPublic.model_validate(e) for e in list_internal_dnc(session, after_id=after_id, limit=limit)
        ]

    return await in_transaction(request, work)


@router.post("", response_model=DncPublic, status_code=201, responses={**ERRORS, 422: {}})
async def add_dnc(
    body: DncCreate, request: Request, principal: Annotated[Principal, Depends(allow(Permission.DNC_WRITE))]
) -> DncPublic:
    """Put a number on the internal DNC list: every campaign stops calling it at once (CP-8)."""
    e164 = phone_e164(body.phone, "phone")

    def work(session: Session, now: datetime) -> DncPublic:
        entry = add_internal_dnc(
            session, phone_e164=e164, source="api", now=now, actor=principal.actor, reason=body.reason
        )
        return DncPublic.model_validate(entry)

    return await in_transaction(request, work)
