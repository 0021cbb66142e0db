"""The agent's turns as the caller heard them: cutting unheard audio, and each turn's record.

A cut (barge-in, opt-out, a machine, the call's end) stops the agent audio the caller has not
heard: Twilio's queue is cleared, the agent is told how much of each item was heard (PROTOCOLS
D7), and the turn's record gets the words that played beside its full transcript
(:func:`bridge.heard.heard_text`). An agent turn is recorded when its transcript is done, which
is often before its audio has played; a cut that comes later updates that record.

The opening disclosure's proof is the same evidence: it is stored as played once its response
completed and Twilio echoed the mark after its last chunk (DESIGN rule 6), never when it was cut.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.agent import AgentConnection, AgentSaid
from bridge.call_record import CallRecorder
from bridge.heard import heard_text
from bridge.playback import PlaybackTracker, TwilioPlayback
from bridge.responses import ResponseLedger
from dialer.models import Speaker


class AgentTurns:
    """One call's agent turns and cuts.

    Attributes:
        disclosure_played: the opening disclosure has played to its end (and that is stored).

    Args:
        out: the Twilio playback.
        playback: its bookkeeping (what was heard of each item).
        responses: the call's responses (which items are still being generated).
        record: the attempt's record.
        agent: the live agent session (None before it is open).
    """

    def __init__(
        self,
        out: TwilioPlayback,
        playback: PlaybackTracker,
        responses: ResponseLedger,
        record: CallRecorder,
        agent: Callable[[], AgentConnection | None],
    ) -> None:
        self._out = out
        self._playback = playback
        self._responses = responses
        self._record = record
        self._agent = agent
        self._turns: dict[str, tuple[int, str, int]] = {}  # item id -> (turn id, text, audio ms)
        self._disclosure_text = ""
        self.disclosure_played = False

    async def cut(self, *, live: bool = True) -> None:
        """Stop the agent audio not heard yet, and record what was heard of each item cut short.

        ``live``: the call goes on, so Twilio's queue is cleared and the agent told what was heard;
        at the end of a call only the record is kept.
        """
        generating = self._responses.generating_items()
        cuts = await self._out.cut(generating) if live else self._playback.cut(generating)
        agent = self._agent()
        for cut in cuts:
            if live and agent is not None:
                await agent.truncate(cut.item_id, cut.heard_ms)
            if cut.item_id in self._turns:
                turn_id, text, audio_ms = self._turns[cut.item_id]
                await self._record.heard(turn_id, heard_text(text, cut.heard_ms, audio_ms))

    async def said(self, said: AgentSaid) -> None:
        """Record a finished agent item, with what was heard of it if it was already cut short."""
        await self._out.finish([said.item_id])
        if self._responses.get(said.response_id) is self._responses.disclosure:
            self._disclosure_text = (self._disclosure_text + " " + said.text).strip()
        heard_ms = self._playback.heard_ms(said.item_id)
        audio_ms = self._playback.received_ms(said.item_id) if said.audio_ms is None else said.audio_ms
        heard = said.text if heard_ms is None else heard_text(said.text, heard_ms, audio_ms)
        turn_id = await self._record.turn(
            Speaker.AGENT, said.text, interrupted=heard_ms is not None, heard=heard
        )
        self._turns[said.item_id] = (turn_id, said.text, audio_ms)

    async def check_disclosure(self, *, ending: bool) -> None:
        """Store the disclosure as played once it completed and its last mark came back.

        ``ending``: the call is ending (a disclosure cut by the ending proves nothing).
        """
        disclosure = self._responses.disclosure
        if disclosure is None or self.disclosure_played or ending or not disclosure.items:
            return
        if disclosure.status != "completed" or self._playback.playing(disclosure.items):
            return
        if any(self._playback.heard_ms(item_id) is not None for item_id in disclosure.items):
            return  # cut short: no proof
        self.disclosure_played = True
        await self._record.disclosure_played(self._disclosure_text)
