"""The facts the gate decides on, as plain frozen data, and their JSON form (``to_dict``).

The JSON form is the ``lead`` / ``campaign`` schema of ``dialer compliance check`` (README, "Compliance
check"); ``compliance.facts_json`` parses it. The dial task builds the same objects from database rows,
so both paths meet in one ``evaluate``. Every instant is timezone-aware; ``to_dict`` writes instants as
ISO-8601 UTC with ``Z``, so a stored decision replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

LINE_TYPES = frozenset({"wireless", "landline", "voip", "unknown"})
CONSENT_TYPES = frozenset({"pewc", "oral", "none"})
EBR_TYPES = frozenset({"purchase", "inquiry"})
RND_RESULTS = frozenset({"yes", "no", "no_data"})
PURPOSES = frozenset({"telemarketing", "informational", "debt_collection", "survey", "political", "other"})
VOICES = frozenset({"ai", "artificial", "prerecorded", "live"})
CHANNELS = frozenset({"voice", "sms", "mms", "rvm", "other"})


LA_EMERGENCY_FLAG = "la_emergency"
"""The compliance flag of Louisiana's emergency ban (La. R.S. 45:844.31; the rule data's LA row)."""


@dataclass(frozen=True, slots=True)
class FactError:
    """A fact that could not be used: ``path`` is its JSON path (``lead.consent.obtained_at``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class Address:
    """The lead's postal address, as far as it is known.

    Attributes:
        state: USPS code (``"IN"``), or None.
        zip: ``"46320"`` / ``"46320-1234"``, or None.
        tz: an IANA zone the lead said they are in (``"America/Chicago"``), or None.
    """

    state: str | None = None
    zip: str | None = None
    tz: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """One consent record (CP-2).

    Attributes:
        type: ``"pewc"`` (prior express written consent), ``"oral"`` or ``"none"``.
        obtained_at: when it was given (aware), or None when undated.
        sellers: the sellers the agreement names (multi-seller consent is lawful when each is named;
            11th Cir. *Insurance Marketing Coalition v. FCC*, 2025).
        covers_artificial_voice: the agreement authorises artificial/prerecorded (AI) voice calls.
        phone_e164: the number the agreement identifies.
        revoked_at: when it was revoked, from any channel (aware), or None.
        method: how it was captured (``"web_form"``, ``"attestation"``...); an undated record counts
            only as an ``attestation``.
    """

    type: str
    obtained_at: datetime | None
    sellers: tuple[str, ...]
    covers_artificial_voice: bool
    phone_e164: str | None
    revoked_at: datetime | None = None
    method: str = ""


@dataclass(frozen=True, slots=True)
class Ebr:
    """An established business relationship (47 CFR 64.1200(f)(5)): ``type`` purchase|inquiry, ``at``."""

    type: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One earlier attempt to reach the number, on any channel, from any caller ID (CP-9).

    Attributes:
        at: when it was made (aware).
        subject: what it was about (the campaign subject), or None (counted as every subject).
        channel: ``voice``, ``sms``, ``mms``, ``rvm`` or ``other``.
        caller_id: the number it came from, or None.
        answered: whether it was answered, or None when unknown.
    """

    at: datetime
    subject: str | None
    channel: str
    caller_id: str | None = None
    answered: bool | None = None


@dataclass(frozen=True, slots=True)
class RndResult:
    """A Reassigned Numbers Database answer (47 CFR 64.1200(m)).

    Attributes:
        queried_at: when the RND was queried (aware).
        consent_date: the date given to the query (the consent date).
        result: ``yes`` (permanently disconnected since that date), ``no`` or ``no_data``.
    """

    queried_at: datetime
    consent_date: date
    result: str


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What is known about the person and number at decision time.

    Attributes:
        phone_e164: the number to dial (canonical E.164), or None when missing.
        line_type: ``wireless``, ``landline``, ``voip`` or ``unknown``.
        address: the postal address, or None.
        consents: every consent record on file for the number (the JSON form has one, ``consent``).
        ebr: the latest EBR with the seller, or None.
        national_dnc: whether the number is on the national registry; None when unknown (blocks).
        state_dnc: USPS codes of the state lists the number is on.
        internal_dnc_requested_at: the latest company-specific DNC request, or None.
        call_history: earlier attempts on any channel.
        rnd: the latest RND result, or None.
    """

    phone_e164: str | None
    line_type: str = "unknown"
    address: Address | None = None
    consents: tuple[Consent, ...] = ()
    ebr: Ebr | None = None
    national_dnc: bool | None = False
    state_dnc: tuple[str, ...] = ()
    internal_dnc_requested_at: datetime | None = None
    call_history: tuple[HistoryEntry, ...] = ()
    rnd: RndResult | None = None


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """What is known about the campaign at decision time.

    Attributes:
        seller: the seller's name as consents name it, or None (blocks).
        purpose: declared purpose; CP-1 treats every call as telemarketing.
        voice: declared voice; CP-1 treats every call as AI/artificial voice.
        subject: the subject the frequency caps group by, or None (every attempt counts).
        dnc_data_age_days: age of the national DNC data used, in days; None when unknown (stale).
        abandonment_rate_30d: abandoned / live-answered calls over 30 days, a fraction in [0, 1].
        active_emergencies: the compliance flags of the rule data's emergency bans that are on
            (``{"la_emergency"}``); None when unknown, which blocks wherever any emergency ban
            applies (CP-10). :attr:`la_emergency_active` reads Louisiana's.
    """

    seller: str | None
    purpose: str = "telemarketing"
    voice: str = "ai"
    subject: str | None = None
    dnc_data_age_days: float | None = None
    abandonment_rate_30d: float | None = 0.0
    active_emergencies: frozenset[str] | None = frozenset()

    @property
    def la_emergency_active(self) -> bool | None:
        """Whether Louisiana's emergency ban is in force (``la_emergency``); None when unknown."""
        if self.active_emergencies is None:
            return None
        return LA_EMERGENCY_FLAG in self.active_emergencies


@dataclass(frozen=True, slots=True)
class CallFacts:
    """Everything the gate looks at for one dial; ``errors`` lists facts that could not be used."""

    lead: LeadFacts
    campaign: CampaignFacts
    errors: tuple[FactError, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the check command's schema, plus ``consents`` and ``errors``)."""
        return {
            "lead": _lead_to_dict(self.lead),
            "campaign": _campaign_to_dict(self.campaign),
            "errors": [{"path": e.path, "message": e.message} for e in self.errors],
        }


# ---------------------------------------------------------------------------------------------------
# Serialisation


def iso(value: datetime | None) -> str | None:
    """An aware instant as ISO-8601 UTC with ``Z`` (``"2026-03-09T14:00:00Z"``); None stays None."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _consent_to_dict(c: Consent) -> dict[str, Any]:
    return {
        "type": c.type,
        "obtained_at": iso(c.obtained_at),
        "sellers": list(c.sellers),
        "covers_artificial_voice": c.covers_artificial_voice,
        "phone_e164": c.phone_e164,
        "revoked_at": iso(c.revoked_at),
        "method": c.method,
    }


def _lead_to_dict(lead: LeadFacts) -> dict[str, Any]:
    a = lead.address
    return {
        "phone_e164": lead.phone_e164,
        "line_type": lead.line_type,
        "address": None if a is None else {"state": a.state, "zip": a.zip, "tz": a.tz},
        "consents": [_consent_to_dict(c) for c in lead.consents],
        "ebr": None if lead.ebr is None else {"type": lead.ebr.type, "at": iso(lead.ebr.at)},
        "national_dnc": lead.national_dnc,
        "state_dnc": list(lead.state_dnc),
        "internal_dnc_requested_at": iso(lead.internal_dnc_requested_at),
        "call_history": [
            {
                "at": iso(h.at),
                "subject": h.subject,
                "channel": h.channel,
                "caller_id": h.caller_id,
                "answered": h.answered,
            }
            for h in lead.call_history
        ],
        "rnd": None
        if lead.rnd is None
        else {
            "queried_at": iso(lead.rnd.queried_at),
            "consent_date": lead.rnd.consent_date.isoformat(),
            "result": lead.rnd.result,
        },
    }


def _campaign_to_dict(c: CampaignFacts) -> dict[str, Any]:
    return {
        "purpose": c.purpose,
        "voice": c.voice,
        "seller": c.seller,
        "subject": c.subject,
        "dnc_data_age_days": c.dnc_data_age_days,
        "abandonment_rate_30d": c.abandonment_rate_30d,
        "active_emergencies": None if c.active_emergencies is None else sorted(c.active_emergencies),
    }
