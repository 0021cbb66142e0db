"""The agent's tools and their dispatcher, bound to one call attempt (DESIGN rule 4).

The lead, number and attempt always come from the stream's own attempt, never from the model's
arguments: a tool schema has no lead id, and extra arguments are ignored (and audited). Arguments
are validated; a bad one returns ``{"ok": false, "error": ...}`` to the model instead of failing
the call. Every call is audited with its arguments and result. Tools run in worker threads with
their own transaction and a time budget, so a slow database never stalls the audio loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.agent import ToolCall, ToolSpec
from bridge.metrics import TOOL_CALLS
from crm.meetings import book_meeting
from dialer.audit import record_event
from dialer.calls.attempts import CallContext
from dialer.calls.callbacks import schedule_callback
from dialer.calls.outcomes import record_attempt_disposition
from dialer.consent import add_internal_dnc
from dialer.db import transaction
from dialer.errors import ToolArgumentError
from dialer.models import (
    AGENT_SETTABLE_DISPOSITIONS,
    Callback,
    CallbackStatus,
    DispositionName,
    DispositionSource,
    DncEntry,
    Meeting,
)
from dialer.runtime import Runtime

log = logging.getLogger(__name__)

_TIME = "The time exactly as the prospect said it, e.g. 'Tuesday at 2pm'."
_NOTES = "Short notes for the sales rep (optional)."


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class BookMeetingArgs(_Args):
    """Book a meeting with a sales rep once the prospect has agreed a time and confirmed their email."""

    preferred_time: str = Field(description=_TIME)
    email: str = Field(description="The email address the prospect confirmed.")
    notes: str = Field("", description=_NOTES)


class HonorDncArgs(_Args):
    """Call immediately when the person asks not to be called again or to be removed. Then say goodbye."""

    reason: str = Field("", description="What the person said (optional).")


_AGENT_DISPOSITIONS: list[JsonValue] = [str(d) for d in sorted(AGENT_SETTABLE_DISPOSITIONS)]


class LogDispositionArgs(_Args):
    """Record the outcome of the call."""

    disposition: str = Field(
        description="The outcome.",
        json_schema_extra={"enum": _AGENT_DISPOSITIONS},
    )
    notes: str = Field("", description=_NOTES)

    @field_validator("disposition")
    @classmethod
    def _settable(cls, value: str) -> str:
        if value not in AGENT_SETTABLE_DISPOSITIONS:
            raise ValueError(f"must be one of {', '.join(sorted(AGENT_SETTABLE_DISPOSITIONS))}")
        return value


class MarkCallbackArgs(_Args):
    """Schedule a callback when the prospect asks to be called at another time."""

    preferred_time: str = Field(description=_TIME)
    notes: str = Field("", description=_NOTES)


class EndCallArgs(_Args):
    """Hang up after you have said goodbye."""

    reason: str = Field("", description="Why the call ends (optional).")


TOOL_ARGS: dict[str, type[_Args]] = {
    "book_meeting": BookMeetingArgs,
    "honor_dnc": HonorDncArgs,
    "log_disposition": LogDispositionArgs,
    "mark_callback": MarkCallbackArgs,
    "end_call": EndCallArgs,
}
"""Each tool's name and its arguments model: the one source of its schema and its validation."""


def tool_spec(name: str, model: type[BaseModel]) -> ToolSpec:
    """The tool as the agent sees it: the model's docstring and its JSON Schema.

    The docstring is what the agent is told the tool is for; the parameters are
    ``model_json_schema()`` without pydantic's ``title`` keys (the agent reads the descriptions), so
    what the agent is told and what the dispatcher accepts cannot drift apart.
    """
    schema = model.model_json_schema()
    schema.pop("title", None)
    description = schema.pop("description", None) or inspect.cleandoc(model.__doc__ or "")
    schema.setdefault("required", [])
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return ToolSpec(name, description, schema)


TOOL_SPECS: tuple[ToolSpec, ...] = tuple(tool_spec(name, model) for name, model in TOOL_ARGS.items())


class ToolEffect(StrEnum):
    """What the bridge must do with the call after a tool ran."""

    NONE = "none"
    END_AFTER_REPLY = "end_after_reply"
    END_NOW = "end_now"


@dataclass(frozen=True)
class ToolResult:
    """A tool's outcome: the JSON string returned to the model, and its effect on the call."""

    output: str
    ok: bool
    effect: ToolEffect = ToolEffect.NONE


def _local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%A, %B %-d at %-I:%M %p %Z")


class ToolDispatcher:
    """Runs the agent's tools for one call.

    Args:
        runtime: sessions and clock.
        context: the call this dispatcher is bound to.
        timeout_ms: budget per tool call.
    """

    def __init__(self, runtime: Runtime, context: CallContext, *, timeout_ms: int) -> None:
        self._runtime = runtime
        self._ctx = context
        self._timeout = timeout_ms / 1000

    async def run(self, call: ToolCall) -> ToolResult:
        """Validate and execute one tool call; never raises for bad input or tool failure."""
        result = await self._run(call)
        tool = call.name if call.name in _HANDLERS else "unknown"  # a bounded label set
        TOOL_CALLS.labels(tool=tool, outcome="ok" if result.ok else "refused").inc()
        return result

    async def _run(self, call: ToolCall) -> ToolResult:
        try:
            raw = json.loads(call.arguments or "{}")
            if not isinstance(raw, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as exc:
            return await self._refuse(
                call, {"_raw": call.arguments[:500]}, f"arguments are not valid JSON: {exc}"
            )
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._execute, call, raw), self._timeout)
        except TimeoutError:
            return await self._refuse(call, raw, "the system took too long; apologise and try once more")

    async def honor_opt_out(self, *, source: str, reason: str) -> None:
        """Record a DNC request the bridge detected itself (key press 9, or the phrase check)."""
        await asyncio.to_thread(self._honor_dnc_sync, source=source, reason=reason, actor="system")

    def _execute(self, call: ToolCall, raw: dict[str, Any]) -> ToolResult:
        handler = _HANDLERS.get(call.name)
        if handler is None:
            return self._refuse_sync(call, raw, f"unknown tool {call.name!r}")
        model, method = handler
        try:
            args = model.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return self._refuse_sync(call, raw, f"invalid arguments: {problems}")
        try:
            with transaction(self._runtime.sessions) as session:
                now = self._runtime.clock.now()
                result = method(self, session, args, call.call_id, now)
                self._audit(session, call, raw, result, now)
                return result
        except ToolArgumentError as exc:
            return self._refuse_sync(call, raw, exc.message)

    def _audit(
        self, session: Session, call: ToolCall, raw: dict[str, Any], result: ToolResult, now: datetime
    ) -> None:
        record_event(
            session,
            kind=f"tool.{call.name}",
            occurred_at=now,
            actor="agent",
            campaign_id=self._ctx.campaign_id,
            lead_id=self._ctx.lead_id,
            attempt_id=self._ctx.attempt_id,
            payload={
                "call_id": call.call_id,
                "arguments": raw,
                "ok": result.ok,
                "output": json.loads(result.output),
                "effect": result.effect,
            },
        )

    def _refuse_sync(self, call: ToolCall, raw: dict[str, Any], error: str) -> ToolResult:
        result = ToolResult(output=json.dumps({"ok": False, "error": error}), ok=False)
        with transaction(self._runtime.sessions) as session:
            self._audit(session, call, raw, result, self._runtime.clock.now())
        return result

    async def _refuse(self, call: ToolCall, raw: dict[str, Any], error: str) -> ToolResult:
        return await asyncio.to_thread(self._refuse_sync, call, raw, error)

    # --- handlers (run inside a transaction; raise ToolArgumentError for the model) ---

    def _book_meeting(
        self, session: Session, args: BookMeetingArgs, call_id: str, now: datetime
    ) -> ToolResult:
        meeting, created = book_meeting(
            session,
            campaign_id=self._ctx.campaign_id,
            lead_id=self._ctx.lead_id,
            attempt_id=self._ctx.attempt_id,
            preferred_time=args.preferred_time,
            email=args.email,
            lead_timezone=self._ctx.lead_timezone,
            now=now,
            tool_call_id=call_id,
            notes=args.notes,
        )
        return _ok(
            meeting={
                "starts_at_local": _local(meeting.starts_at, meeting.lead_timezone),
                "email": meeting.email,
                "already_booked": not created,
            }
        )

    def _honor_dnc(self, session: Session, args: HonorDncArgs, call_id: str, now: datetime) -> ToolResult:
        self._add_dnc(session, source="honor_dnc", reason=args.reason, actor="agent", now=now)
        return _ok(
            effect=ToolEffect.END_AFTER_REPLY,
            instruction="The number is removed from all lists. Say one short goodbye; the call then ends.",
        )

    def _log_disposition(
        self, session: Session, args: LogDispositionArgs, call_id: str, now: datetime
    ) -> ToolResult:
        name = DispositionName(args.disposition)
        if name == DispositionName.DNC:
            return self._honor_dnc(session, HonorDncArgs(reason=args.notes), call_id, now)
        if name == DispositionName.BOOKED and not session.scalar(
            select(Meeting.id).where(Meeting.attempt_id == self._ctx.attempt_id)
        ):
            raise ToolArgumentError("no meeting was booked on this call; call book_meeting first")
        if name == DispositionName.CALLBACK and not session.scalar(
            select(Callback.id).where(
                Callback.attempt_id == self._ctx.attempt_id, Callback.status == CallbackStatus.PENDING
            )
        ):
            raise ToolArgumentError("no callback was scheduled on this call; call mark_callback first")
        record_attempt_disposition(
            session,
            attempt_id=self._ctx.attempt_id,
            name=name,
            source=DispositionSource.AGENT,
            now=now,
            notes=args.notes,
        )
        return _ok(recorded=str(name))

    def _mark_callback(
        self, session: Session, args: MarkCallbackArgs, call_id: str, now: datetime
    ) -> ToolResult:
        callback = schedule_callback(
            session,
            campaign_id=self._ctx.campaign_id,
            lead_id=self._ctx.lead_id,
            attempt_id=self._ctx.attempt_id,
            phone_e164=self._ctx.phone_e164,
            preferred_time=args.preferred_time,
            lead_timezone=self._ctx.lead_timezone,
            address=self._ctx.address,
            now=now,
        )
        return _ok(callback={"due_local": _local(callback.due_at, callback.lead_timezone)})

    def _end_call(self, session: Session, args: EndCallArgs, call_id: str, now: datetime) -> ToolResult:
        return _ok(effect=ToolEffect.END_NOW)

    # --- DNC, shared by the tool and the bridge's own detections ---

    def _add_dnc(self, session: Session, *, source: str, reason: str, actor: str, now: datetime) -> None:
        already = session.scalar(select(DncEntry.id).where(DncEntry.attempt_id == self._ctx.attempt_id))
        if already is not None:
            return
        add_internal_dnc(
            session,
            phone_e164=self._ctx.phone_e164,
            source=source,
            now=now,
            actor=actor,
            reason=reason,
            lead_id=self._ctx.lead_id,
            attempt_id=self._ctx.attempt_id,
        )
        record_attempt_disposition(
            session,
            attempt_id=self._ctx.attempt_id,
            name=DispositionName.DNC,
            source=DispositionSource.AGENT if actor == "agent" else DispositionSource.SYSTEM,
            now=now,
            notes=f"{source}: {reason}".strip(": "),
        )

    def _honor_dnc_sync(self, *, source: str, reason: str, actor: str) -> None:
        with transaction(self._runtime.sessions) as session:
            self._add_dnc(session, source=source, reason=reason, actor=actor, now=self._runtime.clock.now())


def _ok(effect: ToolEffect = ToolEffect.NONE, **fields: Any) -> ToolResult:
    return ToolResult(output=json.dumps({"ok": True, **fields}, default=str), ok=True, effect=effect)


_METHODS: dict[str, Any] = {
    "book_meeting": ToolDispatcher._book_meeting,
    "honor_dnc": ToolDispatcher._honor_dnc,
    "log_disposition": ToolDispatcher._log_disposition,
    "mark_callback": ToolDispatcher._mark_callback,
    "end_call": ToolDispatcher._end_call,
}
_HANDLERS: dict[str, tuple[type[_Args], Any]] = {
    name: (TOOL_ARGS[name], _METHODS[name]) for name in TOOL_ARGS
}
