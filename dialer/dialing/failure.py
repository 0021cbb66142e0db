"""Ending an attempt that produced no call: ``failed`` (or ``unknown``), its disposition, the lead's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from dialer.db import lock_for_update, transaction
from dialer.dialing.capacity import release_after_commit
from dialer.errors import CarrierError
from dialer.models import AttemptStatus, CallAttempt, Campaign, DispositionName, DispositionSource, Lead
from dialer.outcomes import record_disposition, settle_lead

if TYPE_CHECKING:
    from dialer.runtime import Runtime


def fail_attempt(
    runtime: Runtime,
    *,
    attempt_id: int,
    error: CarrierError | None,
    status: AttemptStatus = AttemptStatus.FAILED,
    note: str | None = None,
) -> None:
    """End an attempt that produced no call (or none we can find) with the ``failed`` disposition."""
    with transaction(runtime.sessions) as session:
        attempt = session.scalars(
            lock_for_update(select(CallAttempt).where(CallAttempt.id == attempt_id), session)
        ).one()
        if attempt.status.is_final:
            return
        now = runtime.clock.now()
        release_after_commit(session, campaign_id=attempt.campaign_id, attempt_id=attempt.id)
        attempt.status = status
        attempt.ended_at = now
        if error is not None:
            attempt.error_code = str(error.code or error.http_status or "")
            attempt.error_message = error.message
        lead = session.get_one(Lead, attempt.lead_id)
        campaign = session.get_one(Campaign, attempt.campaign_id)
        record_disposition(
            session,
            lead=lead,
            attempt=attempt,
            name=DispositionName.FAILED,
            source=DispositionSource.SYSTEM,
            now=now,
            notes=note or (error.message if error else ""),
        )
        settle_lead(session, lead=lead, campaign=campaign, decisive=DispositionName.FAILED, now=now)
