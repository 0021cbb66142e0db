"""Placing a batch's calls: bind the slots, send the requests concurrently, record every result in bulk.

After the dial transaction commits, every attempt is ``requesting``. Each request is sent once,
by this execution only (DESIGN rule 3):

1. the pacing slots are bound to their attempts in one capacity call; a slot whose hold ran out
   is not used and its attempt fails with nothing sent;
2. the requests go out concurrently on a bounded, process-wide thread pool through the one
   carrier client (the Twilio SDK over one keep-alive HTTP session per process);
3. the slots are stamped with the time the requests were sent (so the carrier never sees more
   than the CPS in any one-second window, however the sends spread);
4. the results are written in one transaction: CallSids (guarded ``UPDATE``) and ``call.placed``
   events; ``call.request_outcome_unknown`` for a request whose outcome is unknown, which stays
   ``requesting`` for reconciliation and is never sent again; refusals fail their attempt.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

import redis
from sqlalchemy import Table, bindparam, case, func, text, update

from dialer.audit import append_events, event_values
from dialer.calls.capacity import Capacity, Lease
from dialer.calls.carrier import CarrierClient, PlaceCallRequest, PlacedCall
from dialer.calls.reconcile import fail_attempt
from dialer.db import transaction
from dialer.dialing.decide import DialResult, Prepared
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.models import AttemptStatus, CallAttempt

if TYPE_CHECKING:
    from dialer.runtime import Runtime

log = logging.getLogger(__name__)

SEND_THREADS = 16
"""Most carrier requests one worker process has in flight at once (the shared pool's size)."""

_ATTEMPTS = cast(Table, CallAttempt.__table__)
_STORE_SID = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("b_attempt"))
    .values(
        call_sid=func.coalesce(_ATTEMPTS.c.call_sid, bindparam("b_sid")),
        status=case(
            (_ATTEMPTS.c.status == AttemptStatus.REQUESTING.value, AttemptStatus.QUEUED.value),
            else_=_ATTEMPTS.c.status,
        ),
    )
)
_STORE_UNKNOWN = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("b_attempt"))
    .values(error_code=bindparam("b_code"), error_message=bindparam("b_message"))
)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _send_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="dial-send")
        return _pool


def _send(carrier: CarrierClient, request: PlaceCallRequest) -> PlacedCall | CarrierError:
    """One request; a failure is returned, not raised (an unexpected one counts as outcome unknown)."""
    try:
        return carrier.place_call(request)
    except CarrierError as exc:
        return exc
    except Exception as exc:  # the request may have gone out: never re-sent, reconciled
        log.exception("carrier request failed unexpectedly")
        return CarrierUnavailableError(f"carrier request failed: {exc}")


def send_all(carrier: CarrierClient, requests: list[PlaceCallRequest]) -> list[PlacedCall | CarrierError]:
    """Send every request once, concurrently (at most :data:`SEND_THREADS`); results in order."""
    if len(requests) == 1:
        return [_send(carrier, requests[0])]
    return list(_send_pool().map(lambda r: _send(carrier, r), requests))


def _bind(capacity: Capacity, pairs: list[tuple[Lease, Prepared]]) -> list[bool]:
    """Bind each slot to its attempt; if Redis fails now, send anyway: the slots were granted."""
    try:
        return capacity.mark_sending([(lease, p.attempt_id) for lease, p in pairs])
    except redis.RedisError as exc:
        log.warning("could not bind %s pacing slots (sending on the granted slots): %s", len(pairs), exc)
        return [True] * len(pairs)


def _stamp(capacity: Capacity, sent: list[tuple[Lease, Prepared]]) -> None:
    if not sent:
        return
    lease = sent[0][0]
    try:
        capacity.stamp_sent(
            campaign_id=lease.campaign_id,
            caller_id=lease.caller_id,
            attempt_ids=[p.attempt_id for _, p in sent],
        )
    except redis.RedisError as exc:  # the slots stay held until their hold runs out: never too many
        log.warning("could not stamp %s pacing slots: %s", len(sent), exc)


def place_calls(
    runtime: Runtime, capacity: Capacity, pairs: list[tuple[Lease, Prepared]]
) -> dict[int, DialResult]:
    """Send the committed attempts' requests (see the module docstring); lead id -> result.

    Args:
        pairs: each attempt with the pacing slot and lease taken for it (one campaign and caller ID).
    """
    results: dict[int, DialResult] = {}
    bound = _bind(capacity, pairs)
    for (_, prepared), ok in zip(pairs, bound, strict=True):
        if not ok:
            fail_attempt(
                runtime,
                attempt_id=prepared.attempt_id,
                error=None,
                note="the pacing slot expired before the request could be sent; nothing was sent",
            )
            results[prepared.lead_id] = DialResult.SLOT_EXPIRED
    sending = [pair for pair, ok in zip(pairs, bound, strict=True) if ok]
    outcomes = send_all(runtime.carrier, [p.request for _, p in sending])
    _stamp(capacity, sending)
    results.update(_record(runtime, [p for _, p in sending], outcomes))
    return results


def _record(
    runtime: Runtime, prepared: list[Prepared], outcomes: list[PlacedCall | CarrierError]
) -> dict[int, DialResult]:
    """Write every outcome: placed and unknown ones in one transaction, refusals per attempt."""
    results: dict[int, DialResult] = {}
    placed: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    now = runtime.clock.now()
    for attempt, outcome in zip(prepared, outcomes, strict=True):
        if isinstance(outcome, PlacedCall):
            placed.append({"b_attempt": attempt.attempt_id, "b_sid": outcome.sid})
            payload = {"call_sid": outcome.sid, "carrier_status": outcome.status}
            events.append(_event(attempt, "call.placed", now, payload))
            results[attempt.lead_id] = DialResult.PLACED
        elif isinstance(outcome, CarrierUnavailableError):
            code = str(outcome.code or outcome.http_status or "transport")
            unknown.append({"b_attempt": attempt.attempt_id, "b_code": code, "b_message": outcome.message})
            events.append(_event(attempt, "call.request_outcome_unknown", now, {"error": outcome.message}))
            results[attempt.lead_id] = DialResult.OUTCOME_UNKNOWN
    if events:
        with transaction(runtime.sessions) as session:
            conn = session.connection()
            if conn.dialect.name == "postgresql":
                # Losing this commit in a crash is safe (reconciliation adopts the call by its
                # number, or gives the attempt up), so it need not wait for the WAL flush.
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            if placed:  # one guarded UPDATE each: a status callback may have stored the CallSid
                conn.execute(_STORE_SID, placed)
            if unknown:
                conn.execute(_STORE_UNKNOWN, unknown)
            append_events(session, events)
    for attempt, outcome in zip(prepared, outcomes, strict=True):
        if isinstance(outcome, CarrierError) and not isinstance(outcome, CarrierUnavailableError):
            fail_attempt(runtime, attempt_id=attempt.attempt_id, error=outcome)
            results[attempt.lead_id] = DialResult.CARRIER_REFUSED
    return results


def _event(attempt: Prepared, kind: str, now: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return event_values(
        kind=kind,
        occurred_at=now,
        campaign_id=attempt.campaign_id,
        lead_id=attempt.lead_id,
        attempt_id=attempt.attempt_id,
        payload=payload,
    )
