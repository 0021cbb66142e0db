"""Who speaks when: the bridge owns turn-taking, so the disclosure and the goodbye are never cut.

The agent's server VAD only reports the caller's speech (``create_response`` and
``interrupt_response`` off, PROTOCOLS D6); the bridge decides what it means:

- The caller's audio reaches the agent from the first second, so an opt-out said over the
  disclosure is transcribed and caught (47 CFR 64.1200(a)(10); issue 9 item 2).
- Speech over a *protected* response (the opening disclosure, the closing goodbye) cuts nothing:
  no ``clear``, no cancel; that turn gets no answer of its own (the agent waits for the next).
- Speech over any other agent audio is a barge-in: the response is cancelled, Twilio's queue is
  cleared, the agent's item is truncated to what the caller actually heard (PROTOCOLS D7) and
  that is recorded beside its transcript; late audio and stale mark echoes are dropped
  (:mod:`bridge.playback`'s generations).
- When the caller's turn ends, the agent answers, at once or after the response under way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bridge.agent import AgentConnection
from bridge.metrics import BARGE_INS, CallClock
from bridge.playback import PlaybackTracker
from bridge.responses import ResponseLedger


class TurnTaking:
    """One call's turns.

    Args:
        agent: the live agent session.
        cut: cuts the agent audio not heard yet (``clear``, truncate, record what was heard).
        playback: what agent audio is still unplayed.
        responses: the call's responses (which ones are protected, which one is under way).
        may_answer: whether the agent may still take a turn (False once the call is ending or the
            caller has opted out).
        clock: the call's latency clock (a caller turn's end starts its turn latency).
    """

    def __init__(
        self,
        agent: AgentConnection,
        cut: Callable[[], Awaitable[None]],
        playback: PlaybackTracker,
        responses: ResponseLedger,
        may_answer: Callable[[], bool],
        clock: CallClock,
    ) -> None:
        self._clock = clock
        self._agent = agent
        self._cut = cut
        self._playback = playback
        self._responses = responses
        self._may_answer = may_answer
        self._pending = False

    def protected(self) -> bool:
        """A disclosure or goodbye is being generated or is still playing."""
        return any(not r.finished or self._playback.playing(r.items) for r in self._responses.protected)

    async def speech_started(self) -> None:
        """The caller began speaking: a barge-in, unless a protected response is on."""
        self._clock.caller_speech_started()
        if self.protected():
            return
        if self._responses.active or self._playback.unplayed:
            BARGE_INS.inc()
        if self._responses.active:
            await self._agent.cancel_response()  # before the truncation: its item must be done
        await self._cut()

    async def speech_stopped(self, audio_end_ms: int | None = None) -> None:
        """The caller's turn ended (``audio_end_ms`` into the stream): answer it unless it was protected."""
        self._clock.caller_speech_stopped(audio_end_ms)
        if self.protected() or self._responses.disclosure is None:
            return  # heard (transcribed, opt-out checked) but not a turn of its own
        self._pending = True
        self._clock.turn_ended()
        await self.answer_pending()

    def responding(self) -> None:
        """The bridge asked for a response itself (tool results, a goodbye): it answers the turn too."""
        self._pending = False

    async def answer_pending(self) -> None:
        """Start the agent's answer to a caller turn that ended, once no response is under way."""
        if not self._pending or self._responses.active or not self._may_answer():
            return
        self._pending = False
        await self._agent.start_response()
