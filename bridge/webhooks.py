"""Carrier webhooks: the TwiML fetch, call-progress callbacks and the async AMD verdict.

Every route answers 403 unless ``X-Twilio-Signature`` signs the request (the URL rebuilt from the
public URL, every form parameter). Each takes the attempt id from its own query string (Twilio
signs it) and checks that the CallSid belongs to that attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from bridge.metrics import count_cost
from bridge.prompt import agent_session_config, opening_line
from bridge.state import BridgeState
from bridge.twiml import connect_stream, hang_up
from dialer.calls.attempts import (
    MACHINE_VERDICTS,
    CallContext,
    CallStatusUpdate,
    apply_amd,
    apply_call_status,
    issue_stream_token,
    load_call_context,
)
from dialer.calls.costs import CallCost, ended_call_cost
from dialer.errors import (
    AccessDeniedError,
    DialerError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
)
from dialer.models import AttemptStatus

log = logging.getLogger(__name__)
_T = TypeVar("_T")
router = APIRouter(prefix="/twilio")
XML = "application/xml"
MAX_ID = 2**31 - 1
"""The largest attempt id, sequence number or duration a webhook may carry (a PostgreSQL integer)."""
AttemptId = Annotated[int, Query(ge=1, le=MAX_ID)]


def bridge_state(request: Request) -> BridgeState:
    """The process's :class:`BridgeState` (set by the app factory)."""
    return request.app.state.bridge


async def signed_form(
    request: Request, state: Annotated[BridgeState, Depends(bridge_state)]
) -> dict[str, str]:
    """The request's form parameters, after checking the Twilio signature (403 if it fails)."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    if not state.signatures.webhook_is_valid(
        path=request.url.path,
        raw_query=request.url.query,
        form=items,
        signature=request.headers.get("x-twilio-signature"),
    ):
        raise AccessDeniedError("invalid or missing X-Twilio-Signature")
    bad = sorted(k for k, v in items if "\x00" in k or "\x00" in v)
    if bad:  # signed or not, a NUL cannot be stored (PostgreSQL text refuses it)
        raise InvalidRequestError(f"NUL character in form parameter(s) {bad}")
    return dict(items)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidRequestError(f"missing form parameter {name}")
    return value


@router.post("/voice")
async def voice(
    attempt: AttemptId,
    form: Annotated[dict[str, str], Depends(signed_form)],
    state: Annotated[BridgeState, Depends(bridge_state)],
) -> Response:
    """TwiML for an answered call: ``<Connect><Stream>`` with the attempt id and a one-time token.

    The call's agent session starts connecting now, while Twilio runs the TwiML and opens the
    stream (:mod:`bridge.preopen`); this request's arrival is the call's answer (:mod:`bridge.latency`).
    """
    answered_at = time.monotonic()
    settings = state.runtime.settings
    call_sid = _required(form, "CallSid")

    def issue(session: Session, now: datetime) -> tuple[str, CallContext | None]:
        token = issue_stream_token(
            session,
            attempt_id=attempt,
            call_sid=call_sid,
            now=now,
            ttl_seconds=settings.stream_token_ttl_seconds,
        )
        try:
            return token, load_call_context(session, attempt_id=attempt)
        except DialerError as exc:  # the stream will be refused too; no session to open for it
            log.warning("attempt %s: no agent session opened ahead: %s", attempt, exc.message)
            return token, None

    try:
        token, context = await _in_transaction(state, issue)
    except (NotFoundError, InvalidStateError) as exc:
        log.warning("no stream for attempt %s: %s", attempt, exc.message)
        return Response(hang_up(), media_type=XML)
    if context is not None:
        _preopen(state, context, answered_at)
    twiml = connect_stream(
        stream_url=settings.media_stream_url, parameters={"attempt": str(attempt), "token": token}
    )
    return Response(twiml, media_type=XML)


def _preopen(state: BridgeState, context: CallContext, answered_at: float) -> None:
    """Start opening the call's agent session, configured exactly as its bridge session would."""
    try:
        agent = state.agent_for(context.voice_agent)
    except DialerError as exc:  # the stream's own connect reports it
        log.warning("attempt %s: no agent session opened ahead: %s", context.attempt_id, exc.message)
        return
    config = agent_session_config(context, opening_line(context), state.runtime.settings.bridge, agent.voice)
    state.preopened.open(context.attempt_id, agent.connect(config), answered_at=answered_at)


async def _in_transaction(state: BridgeState, work: Callable[[Session, datetime], _T]) -> _T:
    """Run ``work(session, now)`` in a worker thread and transaction (errors reach the app's handler)."""
    return await asyncio.to_thread(state.runtime.run_in_transaction, work)


def _int(form: dict[str, str], name: str) -> int | None:
    """A non-negative integer parameter, or None when absent or not a number.

    Raises:
        InvalidRequestError: a number outside ``0..MAX_ID`` (it could not be stored).
    """
    value = form.get(name)
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is not None and not 0 <= number <= MAX_ID:
        raise InvalidRequestError(f"{name} {value} is out of range")
    return number


@router.post("/status", status_code=204)
async def call_status(
    attempt: AttemptId,
    form: Annotated[dict[str, str], Depends(signed_form)],
    state: Annotated[BridgeState, Depends(bridge_state)],
) -> Response:
    """Apply a call-progress callback (idempotent, order-safe)."""
    try:
        status = AttemptStatus.from_twilio(_required(form, "CallStatus"))
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
    update = CallStatusUpdate(
        call_sid=_required(form, "CallSid"),
        status=status,
        sequence_number=_int(form, "SequenceNumber"),
        duration_seconds=_int(form, "CallDuration"),
        error_code=form.get("ErrorCode") or None,
    )
    settings = state.runtime.settings

    def apply(session: Session, now: datetime) -> CallCost | None:
        if not apply_call_status(session, attempt_id=attempt, update_=update, now=now):
            return None
        return ended_call_cost(session, attempt_id=attempt, settings=settings)

    cost = await _in_transaction(state, apply)
    if cost is not None:  # the callback that ended the call (a replay applies nothing)
        state.preopened.discard(attempt)  # a stream that never came
        count_cost(cost.parts())
    return Response(status_code=204)


@router.post("/amd", status_code=204)
async def amd(
    attempt: AttemptId,
    form: Annotated[dict[str, str], Depends(signed_form)],
    state: Annotated[BridgeState, Depends(bridge_state)],
) -> Response:
    """Store the AMD verdict; on a machine or fax, hang up at once (no message is left).

    A live answer (``human``, ``unknown``) reaches the waiting bridge session first (the request is
    signed, keyed by its CallSid), so the greeting does not wait for a database thread under load
    (no dead air, TSR 2 s). A machine verdict is stored first: the session hangs up on hearing it,
    and the final status callback that follows must find the ``machine`` disposition already there,
    or the attempt would settle as an unlogged ``not_now`` (seen under load).
    """
    call_sid = _required(form, "CallSid")
    answered_by = _required(form, "AnsweredBy")
    if answered_by not in MACHINE_VERDICTS:
        state.amd.publish(call_sid, answered_by)
    must_hang_up = await _in_transaction(
        state,
        lambda session, now: apply_amd(
            session, attempt_id=attempt, call_sid=call_sid, answered_by=answered_by, now=now
        ),
    )
    if answered_by in MACHINE_VERDICTS:
        state.amd.publish(call_sid, answered_by)  # once stored (a live answer's went out above)
    if must_hang_up:
        state.preopened.discard(attempt)  # a machine: no agent session will ever be needed
        await asyncio.to_thread(state.runtime.carrier.hang_up, call_sid)
    return Response(status_code=204)
