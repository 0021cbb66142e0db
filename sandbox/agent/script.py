"""The sandbox agent's sales brain: a deterministic script instead of a language model.

:func:`respond` is a pure function from the script's state and what just happened (the caller's
words, or the results of the agent's function calls) to the next state and what to do: a
:class:`Plan` of speech and function calls. The caller's words are classified by a table of
phrases; the first rule that matches wins::

    DNC              honor_dnc                       -> goodbye
    wrong person     log_disposition wrong_person    -> goodbye + end_call
    not interested   log_disposition not_interested  -> goodbye + end_call
    not now          log_disposition not_now         -> goodbye + end_call
    call back        mark_callback (time)            -> goodbye + log_disposition callback + end_call
    email            book_meeting (time, email)      -> confirmation + log_disposition booked + end_call
    time             remember it, ask for the email
    positive         the pitch
    anything else    ask again; the third miss in a row closes like "not now"

The agent only calls tools the session declared; a step whose tools are all undeclared goes on as
if they had succeeded. The greeting is not the script's: the bridge sends it as a
``Say exactly: "..."`` instruction (see :func:`verbatim_line`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

PITCH = (
    "We help data teams catch broken dashboards before their executives do. Could we set up a "
    "twenty-minute call with one of our specialists? Does Tuesday at 2pm or Wednesday at 10am work?"
)
ASK_EMAIL = "Great. What's the best email for the calendar invite?"
ASK_TIME = "Thanks. What day and time work for a twenty-minute call?"
ASK_CALLBACK_TIME = "Sure. What day and time should I call you back?"
DIDNT_CATCH = "Sorry, I didn't catch that. Could you say that again?"
DNC_GOODBYE = "Understood. I've removed your number from our list, and you won't hear from us again. Goodbye."
CALLBACK_CONFIRMED = "Sure, I'll call you back then. Goodbye."
CALLBACK_REFUSED = "Sorry, that time doesn't work for us. What time would suit you?"
BOOKED = "You're all set. I've sent an invite to {email}. Thanks, and goodbye."
BOOKING_FAILED = "Sorry, {error}. What other time works for you?"
MAX_MISSES = 3
"""Consecutive turns the script does not understand before it gives up on the call."""


@dataclass(frozen=True)
class FunctionCall:
    """A function the agent calls, with its arguments (sent as a JSON string)."""

    name: str
    arguments: dict[str, str]


@dataclass(frozen=True)
class Plan:
    """What one response does: say ``speech`` (if any), then make ``calls`` in order."""

    speech: str | None = None
    calls: tuple[FunctionCall, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the response neither speaks nor calls anything."""
        return self.speech is None and not self.calls

    def keep_tools(self, declared: frozenset[str]) -> Plan:
        """This plan without calls of functions the session did not declare."""
        return replace(self, calls=tuple(call for call in self.calls if call.name in declared))


@dataclass(frozen=True)
class Heard:
    """The caller's words since the agent last responded (empty when nothing was heard)."""

    text: str


@dataclass(frozen=True)
class ToolResult:
    """A function call's outcome, from its ``{"ok": ..., "error": ...}`` output."""

    name: str
    ok: bool
    error: str | None = None

    @classmethod
    def from_output(cls, name: str, output: str) -> ToolResult:
        """Read a tool's JSON output; anything but ``{"ok": true, ...}`` counts as a failure."""
        try:
            data = json.loads(output)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls(name, ok=False, error="something went wrong on our side")
        error = data.get("error")
        return cls(name, ok=data.get("ok") is True, error=str(error) if error else None)


@dataclass(frozen=True)
class ToolResults:
    """Outcomes of the agent's function calls, in the order the client reported them."""

    results: tuple[ToolResult, ...]

    def of(self, name: str) -> ToolResult:
        """The outcome of the call of ``name``; a failure if it was not reported."""
        found = next((result for result in self.results if result.name == name), None)
        return found or ToolResult(name, ok=False, error="that didn't go through")


Turn = Heard | ToolResults


class Pending(Enum):
    """What the agent is waiting on function results for."""

    DNC = "dnc"
    WRONG_PERSON = "wrong_person"
    NOT_INTERESTED = "not_interested"
    NOT_NOW = "not_now"
    UNHEARD = "unheard"
    CALLBACK = "callback"
    BOOKING = "booking"


@dataclass(frozen=True)
class ScriptState:
    """Where the call stands.

    Attributes:
        pending: what the last function calls were for, until their results arrive.
        preferred_time: the meeting time the prospect proposed, as they said it.
        email: the address the prospect gave for the invite.
        misses: consecutive turns the script did not understand.
        callback_requested: the prospect asked to be called back and a time is still needed.
        ended: the agent said goodbye; it has nothing more to say.
    """

    pending: Pending | None = None
    preferred_time: str | None = None
    email: str | None = None
    misses: int = 0
    callback_requested: bool = False
    ended: bool = False


def respond(state: ScriptState, turn: Turn, declared: frozenset[str]) -> tuple[ScriptState, Plan]:
    """Decide the agent's next response.

    Args:
        state: the script's state after the previous response.
        turn: what happened since then.
        declared: names of the functions the session declared.

    Returns:
        The new state and the plan, without calls of undeclared functions.
    """
    state, planned = _next(state, turn)
    plan = planned.keep_tools(declared)
    if plan.is_empty and state.pending is not None:
        assumed = ToolResults(tuple(ToolResult(call.name, ok=True) for call in planned.calls))
        state, plan = _after_tools(state, state.pending, assumed)
        plan = plan.keep_tools(declared)
    return state, plan


_SAY_EXACTLY = re.compile(r"Say exactly:\s*[\"“](.+?)[\"”]", re.DOTALL)


def verbatim_line(instructions: str | None) -> str | None:
    """The text of the last ``Say exactly: "<text>"`` in response instructions, if any."""
    found = _SAY_EXACTLY.findall(instructions or "")
    return found[-1] if found else None


_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow)"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)"
_TIME = re.compile(
    rf"\b(?:(?:this|next)\s+)?{_DAY}(?:\s+(?:morning|afternoon|evening))?,?\s+(?:at\s+|around\s+)?{_CLOCK}",
    re.IGNORECASE,
)
_WRITTEN_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_EMAIL = re.compile(
    r"\b([\w+-]+(?:\s+dot\s+[\w+-]+)*)\s+at\s+([\w-]+(?:\s+dot\s+[\w-]+)+)\b", re.IGNORECASE
)
_DOT = re.compile(r"\s+dot\s+", re.IGNORECASE)


def find_time(text: str) -> str | None:
    """A day word followed by a clock time ("Tuesday at 2pm"), as the prospect said it."""
    found = _TIME.search(text)
    return found.group(0) if found else None


def find_email(text: str) -> str | None:
    """An email address, written (``jane@acme.com``) or spoken ("jane at acme dot com")."""
    written = _WRITTEN_EMAIL.search(text)
    if written:
        return written.group(0)
    spoken = _SPOKEN_EMAIL.search(text)
    if spoken:
        local, domain = (_DOT.sub(".", part).lower() for part in spoken.groups())
        return f"{local}@{domain}"
    return None


class Intent(Enum):
    """What a caller's turn means to the script."""

    DNC = "dnc"
    WRONG_PERSON = "wrong_person"
    NOT_INTERESTED = "not_interested"
    NOT_NOW = "not_now"
    CALLBACK = "callback"
    EMAIL = "email"
    TIME = "time"
    POSITIVE = "positive"
    UNCLEAR = "unclear"


def _says(*phrases: str) -> Callable[[str], bool]:
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(phrase) for phrase in phrases) + r")\b")
    return lambda text: pattern.search(text) is not None


def _only_stop(text: str) -> bool:
    return re.fullmatch(r"\W*stop\W*", text) is not None


_RULES: tuple[tuple[Intent, Callable[[str], bool]], ...] = (
    (
        Intent.DNC,
        _says("stop calling", "take me off", "remove me", "do not call", "don't call", "unsubscribe"),
    ),
    (Intent.DNC, _only_stop),
    (Intent.WRONG_PERSON, _says("wrong number", "wrong person", "no one by that name")),
    (Intent.NOT_INTERESTED, _says("not interested", "no thanks", "no thank you")),
    (Intent.NOT_NOW, _says("not a good time", "bad time", "not now")),
    (Intent.CALLBACK, _says("call me back", "call back", "another time")),
    (Intent.EMAIL, lambda text: find_email(text) is not None),
    (Intent.TIME, lambda text: find_time(text) is not None),
    (Intent.POSITIVE, _says("yes", "sure", "okay", "go ahead", "i have a minute", "let's", "sounds good")),
)


def classify(text: str) -> Intent:
    """The intent of the caller's words: the first rule of the table that matches."""
    normal = " ".join(text.lower().replace("’", "'").split())
    return next((intent for intent, matches in _RULES if matches(normal)), Intent.UNCLEAR)


_CLOSINGS: dict[Pending, tuple[str, str]] = {
    Pending.WRONG_PERSON: ("wrong_person", "Sorry for the trouble. Goodbye."),
    Pending.NOT_INTERESTED: ("not_interested", "No problem at all. Thanks for your time. Goodbye."),
    Pending.NOT_NOW: ("not_now", "I understand. Thanks, and have a good day. Goodbye."),
    Pending.UNHEARD: ("not_now", "Sorry, I'm having trouble hearing you. I'll try another time. Goodbye."),
}
"""Calls that end by logging a disposition and then saying goodbye: (disposition, goodbye)."""

_CLOSING_FOR: dict[Intent, Pending] = {
    Intent.WRONG_PERSON: Pending.WRONG_PERSON,
    Intent.NOT_INTERESTED: Pending.NOT_INTERESTED,
    Intent.NOT_NOW: Pending.NOT_NOW,
}


_PENDING_FOR_TOOL = {"honor_dnc": Pending.DNC}
"""What a result is for when the script did not make the call: a conversation rebuilt after a
reconnect hands a fresh session the result of its predecessor's call."""


def _next(state: ScriptState, turn: Turn) -> tuple[ScriptState, Plan]:
    if state.ended:
        return state, Plan()
    if isinstance(turn, ToolResults):
        pending = state.pending or next(
            (_PENDING_FOR_TOOL[r.name] for r in turn.results if r.name in _PENDING_FOR_TOOL), None
        )
        return _after_tools(state, pending, turn) if pending is not None else (state, Plan())
    return _after_words(replace(state, pending=None), turn.text)


def _after_words(state: ScriptState, text: str) -> tuple[ScriptState, Plan]:
    intent = classify(text)
    if intent is Intent.UNCLEAR:
        state = replace(state, misses=state.misses + 1)
        return _close(state, Pending.UNHEARD) if state.misses >= MAX_MISSES else (state, Plan(DIDNT_CATCH))
    state = replace(state, misses=0, callback_requested=state.callback_requested and intent is Intent.TIME)
    if intent is Intent.DNC:
        return replace(state, pending=Pending.DNC), Plan(calls=(FunctionCall("honor_dnc", {"reason": text}),))
    if intent in _CLOSING_FOR:
        return _close(state, _CLOSING_FOR[intent])
    time = find_time(text)
    if intent is Intent.CALLBACK or (intent is Intent.TIME and state.callback_requested):
        if time is None:
            return replace(state, callback_requested=True), Plan(ASK_CALLBACK_TIME)
        return _request_callback(state, time)
    if intent is Intent.EMAIL:
        state = replace(state, email=find_email(text))
    if intent in (Intent.EMAIL, Intent.TIME):
        state = replace(state, preferred_time=time or state.preferred_time)
        if state.preferred_time is None:
            return state, Plan(ASK_TIME)
        if state.email is None:
            return state, Plan(ASK_EMAIL)
        return _book(state, state.preferred_time, state.email)
    return state, Plan(PITCH)


def _close(state: ScriptState, pending: Pending) -> tuple[ScriptState, Plan]:
    disposition, _ = _CLOSINGS[pending]
    return replace(state, pending=pending), Plan(calls=(_log(disposition),))


def _request_callback(state: ScriptState, time: str) -> tuple[ScriptState, Plan]:
    call = FunctionCall("mark_callback", {"preferred_time": time})
    return replace(state, pending=Pending.CALLBACK, callback_requested=True), Plan(calls=(call,))


def _book(state: ScriptState, time: str, email: str) -> tuple[ScriptState, Plan]:
    call = FunctionCall("book_meeting", {"preferred_time": time, "email": email})
    return replace(state, pending=Pending.BOOKING), Plan(calls=(call,))


def _after_tools(state: ScriptState, pending: Pending, results: ToolResults) -> tuple[ScriptState, Plan]:
    state = replace(state, pending=None)
    if pending is Pending.DNC:
        return replace(state, ended=True), Plan(DNC_GOODBYE)
    if pending is Pending.CALLBACK:
        outcome = results.of("mark_callback")
        if not outcome.ok:
            return state, Plan(CALLBACK_REFUSED)
        return _goodbye(state, CALLBACK_CONFIRMED, disposition="callback")
    if pending is Pending.BOOKING:
        outcome = results.of("book_meeting")
        if not outcome.ok:
            reason = (outcome.error or "that time isn't available").rstrip(" .!")
            return replace(state, preferred_time=None), Plan(BOOKING_FAILED.format(error=reason))
        return _goodbye(state, BOOKED.format(email=state.email), disposition="booked")
    disposition, goodbye = _CLOSINGS[pending]
    return replace(state, ended=True), Plan(goodbye, calls=(_end_call(disposition),))


def _goodbye(state: ScriptState, speech: str, *, disposition: str) -> tuple[ScriptState, Plan]:
    return replace(state, ended=True), Plan(speech, calls=(_log(disposition), _end_call(disposition)))


def _log(disposition: str) -> FunctionCall:
    return FunctionCall("log_disposition", {"disposition": disposition})


def _end_call(reason: str) -> FunctionCall:
    return FunctionCall("end_call", {"reason": reason})
