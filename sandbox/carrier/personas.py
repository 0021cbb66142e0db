"""Prospect personas: what the person (or machine) at a dialled number does, deterministically.

A persona is a script of reactions to the agent. A human persona reacts after each *complete*
agent utterance it hears (see :mod:`sandbox.carrier.prospect`), consuming its reactions in order:

* ``str``: say this text;
* ``None``: say nothing and keep listening;
* :class:`Dtmf`: press a key instead of speaking;
* :class:`BargeIn`: say this text *during* the agent's next utterance, without waiting for it to end.

Texts may use ``{first_name}``, ``{email}`` and ``{time}``, filled from the prospect's
:class:`Profile` by :func:`make_persona`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AnsweredBy = Literal["human", "machine_start"]
"""What answering-machine detection reports for an answered call."""
RingOutcome = Literal["busy", "no-answer", "failed"]
"""Terminal call status of a number nobody answers."""


@dataclass(frozen=True)
class Dtmf:
    """A key press sent instead of a spoken reply.

    Attributes:
        digit: one of ``0-9``, ``*``, ``#``.
    """

    digit: str


@dataclass(frozen=True)
class BargeIn:
    """Speech that interrupts the agent's next utterance.

    Attributes:
        text: what the prospect says.
        after_ms: ms after the agent's utterance starts playing at which the prospect cuts in.
    """

    text: str
    after_ms: int = 600


Reaction = str | Dtmf | BargeIn | None
"""One step of a persona's script (see the module docstring)."""


@dataclass(frozen=True)
class Profile:
    """The person behind a number, as the agent should know them.

    Attributes:
        first_name: how the prospect introduces themself (or their voicemail does).
        email: the address they give when asked.
        time: the meeting slot they accept, e.g. ``"Tuesday at 2pm"``.
    """

    first_name: str
    email: str
    time: str = "Tuesday at 2pm"


@dataclass(frozen=True)
class Persona:
    """A prospect's complete, filled-in behaviour on one call.

    Attributes:
        name: persona name, e.g. ``"books_meeting"``.
        answered_by: ``"human"`` or ``"machine_start"`` for answered calls; None if never answered.
        ring_outcome: the terminal status of a call nobody answers (None when answered).
        reactions: the script, texts already filled in.
        greeting: what the prospect says as soon as the call connects (a voicemail greeting),
            or None to wait for the agent.
        profile: who the prospect is.
    """

    name: str
    answered_by: AnsweredBy | None
    ring_outcome: RingOutcome | None
    reactions: tuple[Reaction, ...]
    greeting: str | None
    profile: Profile

    @property
    def is_machine(self) -> bool:
        """True when an answering machine picks up."""
        return self.answered_by == "machine_start"


@dataclass(frozen=True)
class _Template:
    answered_by: AnsweredBy | None
    ring_outcome: RingOutcome | None = None
    reactions: tuple[Reaction, ...] = ()
    greeting: str | None = None


_AGREE = "Sure, I have a minute."
_ACCEPT_TIME = "{time} works for me."
_GIVE_EMAIL = "It's {email}."
_CUT_IN = BargeIn("Sorry to cut in, yes, let's set up a meeting.")

_TEMPLATES: dict[str, _Template] = {
    "books_meeting": _Template("human", reactions=(_AGREE, _ACCEPT_TIME, _GIVE_EMAIL)),
    "interrupts": _Template("human", reactions=(_AGREE, _CUT_IN, _ACCEPT_TIME, _GIVE_EMAIL)),
    "asks_removal": _Template("human", reactions=("Please take me off your list and stop calling me.",)),
    # Opts out while the disclosure is still playing: the bridge must hear it without cutting it.
    "stops_during_disclosure": _Template("human", reactions=(BargeIn("Stop calling me.", after_ms=250),)),
    "not_interested": _Template("human", reactions=("No thanks, I'm not interested.",)),
    "not_now": _Template("human", reactions=("Now is not a good time, sorry.",)),
    "callback": _Template(
        "human", reactions=("I'm driving right now. Can you call me back tomorrow at 10am?",)
    ),
    "wrong_person": _Template("human", reactions=("Sorry, you have the wrong number.",)),
    "presses_9": _Template("human", reactions=(Dtmf("9"),)),
    "voicemail": _Template(
        "machine_start", greeting="Hi, you've reached {first_name}. Please leave a message after the tone."
    ),
    "no_answer": _Template(None, ring_outcome="no-answer"),
    "busy": _Template(None, ring_outcome="busy"),
    "failed": _Template(None, ring_outcome="failed"),
}

PERSONA_NAMES: tuple[str, ...] = tuple(_TEMPLATES)
"""Every persona the sandbox knows."""


def _fill(reaction: Reaction, profile: Profile) -> Reaction:
    fields = {"first_name": profile.first_name, "email": profile.email, "time": profile.time}
    if isinstance(reaction, str):
        return reaction.format(**fields)
    if isinstance(reaction, BargeIn):
        return BargeIn(reaction.text.format(**fields), reaction.after_ms)
    return reaction


def make_persona(name: str, profile: Profile) -> Persona:
    """Build the named persona for one prospect, with its texts filled in.

    Args:
        name: one of :data:`PERSONA_NAMES`.
        profile: who the prospect is.

    Returns:
        The persona, ready to drive a call.

    Raises:
        KeyError: for an unknown persona name.
    """
    template = _TEMPLATES[name]
    greeting = template.greeting.format(first_name=profile.first_name) if template.greeting else None
    return Persona(
        name=name,
        answered_by=template.answered_by,
        ring_outcome=template.ring_outcome,
        reactions=tuple(_fill(reaction, profile) for reaction in template.reactions),
        greeting=greeting,
        profile=profile,
    )
