"""What one dial decision writes, as plain rows: the decision, then the attempt or the skip.

Pure functions (no session): :mod:`dialer.dialing.decide` builds these rows for every lead of a
batch and writes each kind in one bulk statement. The rows, the audit events' kinds and their
payloads are the ones the per-lead dial wrote through the ORM (``gate.decision``,
``call.attempt_created``, ``disposition``), so audit verification, export and replay see the
same log.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from compliance import Decision
from dialer.audit import event_values
from dialer.calls.carrier import PlaceCallRequest
from dialer.calls.outcomes import lead_state_after
from dialer.dialing.facts import LeadRow
from dialer.models import AttemptStatus, DispositionName, DispositionSource, LeadStatus

if TYPE_CHECKING:
    from dialer.runtime import Runtime  # which builds the dial's capacity: imported for types only


def decision_row(decision: Decision, lead: LeadRow) -> dict[str, Any]:
    """The ``gate_decisions`` row of ``decision`` for ``lead`` (reasons, trace, facts: replayable)."""
    return {
        "campaign_id": lead.campaign_id,
        "lead_id": lead.id,
        "decided_at": decision.evaluated_at,
        "allowed": decision.allowed,
        "reasons": [str(r) for r in decision.reason_codes],
        "warnings": list(decision.warnings),
        "rule_data_version": decision.rule_data_version,
        "trace": [c.to_dict() for c in decision.trace],
        "facts": decision.facts,
        "next_allowed_at": decision.next_allowed_at,
    }


def decision_event(
    decision: Decision, row: dict[str, Any], decision_id: int, lead: LeadRow, now: datetime
) -> dict[str, Any]:
    """The ``gate.decision`` audit event of a stored decision (``row`` from :func:`decision_row`)."""
    return event_values(
        kind="gate.decision",
        occurred_at=now,
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        payload={
            "gate_decision_id": decision_id,
            "allowed": decision.allowed,
            "reasons": row["reasons"],
            "warnings": row["warnings"],
            "zones": list(decision.zones),
            "states": list(decision.states),
            "next_allowed_at": decision.next_allowed_at,
            "rule_data_version": decision.rule_data_version,
            "phone_e164": lead.phone_e164,
            "trace": row["trace"],
        },
    )


def attempt_row(lead: LeadRow, caller_id: str, decision_id: int, now: datetime) -> dict[str, Any]:
    """The lead's next ``call_attempts`` row, ``requesting`` (nothing sent yet)."""
    return {
        "campaign_id": lead.campaign_id,
        "lead_id": lead.id,
        "gate_decision_id": decision_id,
        "attempt_number": lead.attempt_count + 1,
        "status": AttemptStatus.REQUESTING,
        "to_e164": lead.phone_e164,
        "from_e164": caller_id,
        "requested_at": now,
    }


def attempt_event(row: dict[str, Any], attempt_id: int, now: datetime) -> dict[str, Any]:
    """The ``call.attempt_created`` audit event of an attempt row given its id."""
    return event_values(
        kind="call.attempt_created",
        occurred_at=now,
        campaign_id=row["campaign_id"],
        lead_id=row["lead_id"],
        attempt_id=attempt_id,
        payload={
            "attempt_number": row["attempt_number"],
            "gate_decision_id": row["gate_decision_id"],
            "to": row["to_e164"],
            "from": row["from_e164"],
        },
    )


def skip_rows(
    lead: LeadRow,
    decision: Decision,
    decision_id: int,
    *,
    max_attempts: int,
    retry_delay_seconds: int,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The gate refused: ``(disposition row, its audit event, the lead's new values)``.

    The disposition is ``skipped_compliance`` with the reason codes as notes; the lead waits for
    the decision's ``next_allowed_at`` when only time rules blocked, else it is ``blocked``.
    """
    notes = ", ".join(str(r) for r in decision.reason_codes)
    name, source = DispositionName.SKIPPED_COMPLIANCE, DispositionSource.SYSTEM
    disposition = {
        "campaign_id": lead.campaign_id,
        "lead_id": lead.id,
        "attempt_id": None,
        "gate_decision_id": decision_id,
        "name": name,
        "source": source,
        "notes": notes,
        "recorded_at": now,
    }
    event = event_values(
        kind="disposition",
        occurred_at=now,
        actor=str(source),
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        attempt_id=None,
        payload={
            "disposition": name,
            "source": source,
            "notes": notes,
            "call_sid": None,
            "gate_decision_id": decision_id,
        },
    )
    status, next_at = lead_state_after(
        name,
        attempt_count=lead.attempt_count,
        max_attempts=max_attempts,
        retry_delay_seconds=retry_delay_seconds,
        now=now,
        next_allowed_at=decision.next_allowed_at,
    )
    values = {"b_id": lead.id, "b_status": status, "b_next": next_at, "b_last": name.value}
    return disposition, event, values


def call_request(
    runtime: Runtime,
    *,
    attempt_id: int,
    to: str,
    from_: str,
    record: bool,
    max_call_seconds: int | None,
) -> PlaceCallRequest:
    """The carrier request for attempt ``attempt_id``: webhooks naming it, async AMD, the limits.

    Args:
        max_call_seconds: the campaign's own call limit (None: the setting's), capped by
            ``settings.call_time_limit_seconds``, which the live-call leases are sized for.
    """
    settings = runtime.settings
    return PlaceCallRequest(
        to=to,
        from_=from_,
        twiml_url=runtime.webhook_url("/twilio/voice", attempt=attempt_id),
        status_callback_url=runtime.webhook_url("/twilio/status", attempt=attempt_id),
        amd_callback_url=runtime.webhook_url("/twilio/amd", attempt=attempt_id),
        record=record,
        ring_timeout_seconds=settings.ring_timeout_seconds,
        machine_detection_timeout_seconds=settings.machine_detection_timeout_seconds,
        time_limit_seconds=min(
            max_call_seconds or settings.call_time_limit_seconds, settings.call_time_limit_seconds
        ),
    )


def released_status(attempt_count: int) -> LeadStatus:
    """Where a claimed lead goes back to when it is not dialed now (the hopper claims it again)."""
    return LeadStatus.PENDING if attempt_count == 0 else LeadStatus.WAITING
