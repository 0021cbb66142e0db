"""Transcript links: a signed URL opens one call's transcript as text, and nothing else."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from bridge.access_log import redact
from bridge.app import create_app
from crm.transcripts import transcript_signature
from dialer.crm_settings import CrmSettings
from dialer.db import transaction
from dialer.models import Speaker, TranscriptTurn
from tests.factories import create_attempt, create_campaign, create_lead
from tests.fakes.agent import FakeVoiceAgent

SECRET = "links-0123456789abcdefghijkl"


def test_a_signed_link_shows_the_calls_turns_and_an_unset_secret_serves_nothing(runtime):
    with transaction(runtime.sessions) as s:
        campaign = create_campaign(s)
        attempt = create_attempt(s, campaign, create_lead(s, campaign))
        attempt_id = attempt.id
        for speaker, text in (
            (Speaker.AGENT, "Hi, this is an AI assistant."),
            (Speaker.CALLER, "Who is this?"),
        ):
            s.add(
                TranscriptTurn(
                    attempt_id=attempt_id, speaker=speaker, text=text, occurred_at=runtime.clock.now()
                )
            )
    sig = transcript_signature(SECRET, attempt_id)
    off = TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))
    assert off.get(f"/crm/calls/{attempt_id}/transcript", params={"sig": sig}).status_code == 404

    crm = CrmSettings(link_secret=SECRET)
    on = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"crm": crm}))
    client = TestClient(create_app(runtime=on, agent=FakeVoiceAgent()))
    text = client.get(f"/crm/calls/{attempt_id}/transcript", params={"sig": sig}).text
    assert "17:00:00 agent: Hi, this is an AI assistant.\n17:00:00 caller: Who is this?\n" in text
    assert (
        client.get(
            f"/crm/calls/{attempt_id}/transcript", params={"sig": sig[:-1] + ("1" if sig[-1] == "0" else "0")}
        ).status_code
        == 403
    )
    assert redact(f"GET /crm/calls/{attempt_id}/transcript?sig={sig}") == (
        f"GET /crm/calls/{attempt_id}/transcript?sig=[redacted]"
    )
