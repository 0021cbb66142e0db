"""Stored facts round-trip exactly, and replaying a stored decision reproduces it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from compliance import GateInput, ReasonCode, evaluate, replay
from compliance.reasons import RULESET_VERSION
from tests.compliance.factories import ANCHORAGE, SIGNED, dnc, gate_input, local, pewc, utc

PHONE = "+19075550123"


def _rich_input() -> GateInput:
    return gate_input(
        PHONE,
        state="AK",
        zip_code="99501-1234",
        consents=(
            pewc(PHONE, consent_type="oral", signed_at=None),
            pewc(PHONE, signed_at=SIGNED.astimezone(ZoneInfo(ANCHORAGE)), revoked_at=utc(2027, 1, 1)),
            pewc(PHONE, signed_at=None, seller_name=None),
        ),
        dnc_entries=(dnc(utc(2026, 2, 1, 9, 30, 15, 123456)), dnc(utc(2025, 11, 1), list_name="national")),
    )


def test_gate_input_round_trips_exactly_through_json():
    inp = _rich_input()
    data = json.loads(json.dumps(inp.to_dict()))
    assert data["consents"][1]["signed_at"] == "2026-01-05T06:00:00-09:00"
    back = GateInput.from_dict(data)
    assert back == inp
    assert back.to_dict() == inp.to_dict()
    assert isinstance(back.consents, tuple) and isinstance(back.dnc, tuple)
    assert back.dnc[0].requested_at.microsecond == 123456


def test_from_dict_is_strict():
    data = _rich_input().to_dict()
    bad = json.loads(json.dumps(data))
    bad["consents"][0]["covers_artificial_voice"] = "false"
    with pytest.raises(ValueError, match="covers_artificial_voice"):
        GateInput.from_dict(bad)
    missing = dict(data)
    del missing["dnc"]
    with pytest.raises(ValueError, match="missing"):
        GateInput.from_dict(missing)
    with pytest.raises(ValueError, match="unknown"):
        GateInput.from_dict({**data, "extra": 1})


@pytest.mark.parametrize(
    "now",
    [
        local(ANCHORAGE, 2026, 3, 10, 8, 30),  # blocked by the window (Adak)
        local(ANCHORAGE, 2026, 3, 10, 12, 0),  # blocked by DNC / consent only
        datetime(2026, 3, 8, 12, 0, tzinfo=timezone(timedelta(hours=-5))),  # a fixed-offset now
    ],
)
def test_replay_reproduces_the_decision(now):
    decision = evaluate(_rich_input(), now=now)
    stored = json.loads(json.dumps(decision.to_dict()))
    assert stored["facts"] == decision.facts  # facts are JSON-ready as they are
    replayed = replay(stored["facts"], decided_at=decision.decided_at)
    assert replayed == decision


def test_replay_of_an_allowed_and_a_window_blocked_decision():
    inp = gate_input(PHONE)
    blocked = evaluate(inp, now=local(ANCHORAGE, 2026, 3, 10, 8, 30))
    assert blocked.reasons == (ReasonCode.OUTSIDE_CALLING_WINDOW,)
    again = replay(json.loads(json.dumps(blocked.facts)), decided_at=blocked.decided_at)
    assert again == blocked
    assert again.next_allowed_at == utc(2026, 3, 10, 17, 0)
    allowed = evaluate(inp, now=again.next_allowed_at)
    assert allowed.allowed
    assert replay(allowed.facts, decided_at=allowed.decided_at) == allowed


def test_replay_under_another_ruleset_says_so():
    decision = evaluate(gate_input(PHONE), now=local(ANCHORAGE, 2026, 3, 10, 12, 0))
    facts = json.loads(json.dumps(decision.facts))
    facts["derived"]["ruleset_version"] = "2026.01-0"
    replayed = replay(facts, decided_at=decision.decided_at)
    assert replayed.allowed == decision.allowed
    assert replayed.notes[-1] == f"replayed_under_ruleset:{RULESET_VERSION} (decided under 2026.01-0)"


def test_decision_to_dict_is_json_ready():
    decision = evaluate(_rich_input(), now=local(ANCHORAGE, 2026, 3, 10, 12, 0))
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["reasons"] == [
        "DNC_INTERNAL",
        "CONSENT_MISSING",
        "CONSENT_SELLER_MISMATCH",
        "CONSENT_REVOKED",
    ]
    assert data["decided_at"] == "2026-03-10T20:00:00+00:00"
    derived = data["facts"]["derived"]
    assert derived["consent"]["satisfied_by"] is None
    assert [r["reasons"] for r in derived["consent"]["records"]] == [
        ["CONSENT_NOT_WRITTEN"],
        ["CONSENT_REVOKED"],
        ["CONSENT_MISSING", "CONSENT_SELLER_MISMATCH", "CONSENT_REVOKED"],
    ]
