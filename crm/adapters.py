"""The CRM adapter seam: what the dialer tells a CRM, and the destination that drives an adapter.

The built-in CRM is the dialer's own tables (meetings, dispositions, transcripts, the reps'
calendar feed): with ``DIALER_CRM__BACKEND=builtin`` (the default) nothing is synced anywhere.
An external CRM implements :class:`CrmAdapter` (:class:`crm.hubspot.HubSpotCrm` is the first)
and :class:`CrmSync` delivers the outbox's ``meeting.booked`` and ``call.completed`` messages to it:
upsert the contact, then create the meeting (with its owner) or log the call (with its
disposition and transcript link). Every adapter method must be idempotent for its ``key``: a retry
after an unknown outcome finds what the first try made instead of making it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm.destinations import Destination
from crm.transcripts import transcript_signature
from dialer.errors import DeliveryError
from dialer.outbox import ClaimedMessage


@dataclass(frozen=True)
class Contact:
    """A prospect as a CRM contact (``phone_e164`` always set; ``email`` when known)."""

    phone_e164: str
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    title: str | None
    state: str | None


@dataclass(frozen=True)
class CallLog:
    """A finished call to log on the contact.

    Attributes:
        key: idempotency key (``ai-dialer-attempt-<id>``).
        status: the final carrier status (``completed``, ``busy``, ``no-answer``, ``failed``, ``canceled``).
        disposition: the decisive disposition (``booked``, ``not_interested``...).
        ended_at: when it ended (UTC), else when the event happened.
        duration_seconds: the carrier's duration (0 when unanswered).
        owner_id: the CRM owner of the rep of the meeting booked on the call (None: the default owner).
    """

    key: str
    title: str
    status: str
    disposition: str
    notes: tuple[str, ...]
    from_e164: str
    to_e164: str
    ended_at: datetime
    duration_seconds: int
    transcript_url: str
    owner_id: str | None = None


@dataclass(frozen=True)
class MeetingInvite:
    """A meeting the agent booked, for the rep.

    Attributes:
        key: idempotency key: the meeting's URL in the dialer (``<public URL>/crm/meetings/<id>``).
        starts_at, ends_at: UTC.
        lead_timezone: the prospect's IANA zone (said in the body).
        owner_id: the CRM owner of the meeting's rep (None: the default owner).
    """

    key: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    lead_timezone: str
    owner_id: str | None = None


class CrmAdapter(ABC):
    """An external CRM. Methods raise :class:`~dialer.errors.DeliveryError` on failure.

    Attributes:
        worst_case_seconds: the longest one message's calls can take (every request at its timeout).
    """

    worst_case_seconds: float = 60.0

    @abstractmethod
    def upsert_contact(self, contact: Contact) -> str:
        """Create or update the contact (matched by email, else by phone); return its CRM id."""

    @abstractmethod
    def log_call(self, call: CallLog, *, contact_id: str, look_up: bool = True) -> str:
        """Log the call on the contact unless a call with ``call.key`` exists; return its CRM id.

        ``look_up`` False (the message's first try: nothing can have made it yet) skips the search.
        """

    @abstractmethod
    def create_meeting(self, meeting: MeetingInvite, *, contact_id: str, look_up: bool = True) -> str:
        """Create the meeting on the contact unless one with ``meeting.key`` exists; return its CRM id.

        ``look_up`` False (the message's first try) skips the search.
        """


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def contact_from(payload: dict[str, Any]) -> Contact:
    """The contact of a ``meeting.booked`` or ``call.completed`` payload (a meeting's email wins)."""
    lead = payload["lead"]
    return Contact(
        phone_e164=lead["phone_e164"],
        email=payload.get("email") or lead.get("email"),
        first_name=lead.get("first_name"),
        last_name=lead.get("last_name"),
        company=lead.get("company"),
        title=lead.get("title"),
        state=lead.get("state"),
    )


def _owner(payload: dict[str, Any]) -> str | None:
    rep = payload.get("rep") or {}
    owner = rep.get("hubspot_owner_id")
    return str(owner) if owner else None


def call_from(message: ClaimedMessage, *, transcript_url: str) -> CallLog:
    """The call log of a ``call.completed`` message."""
    data = message.payload
    ended = data.get("ended_at")
    return CallLog(
        key=f"ai-dialer-attempt-{data['attempt_id']}",
        title=f"AI dialer call ({data['campaign']}): {data['disposition']}",
        status=str(data["status"]),
        disposition=str(data["disposition"]),
        notes=tuple(
            f"{d['name']}: {d['notes']}" if d.get("notes") else d["name"] for d in data["dispositions"]
        ),
        from_e164=data["from_e164"],
        to_e164=data["to_e164"],
        ended_at=_instant(ended) if ended else message.occurred_at,
        duration_seconds=int(data.get("duration_seconds") or 0),
        transcript_url=transcript_url,
        owner_id=_owner(data),
    )


def meeting_from(message: ClaimedMessage, *, url: str) -> MeetingInvite:
    """The meeting of a ``meeting.booked`` message; ``url`` is its URL in the dialer (its key)."""
    data = message.payload
    lead = data["lead"]
    name = " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p) or lead["phone_e164"]
    starts = _instant(data["starts_at"])
    lines = [
        f"Booked by the AI dialer on a call ({data['campaign']}).",
        f'They said: "{data["requested_text"]}" ({data["lead_timezone"]}). Email: {data["email"]}',
    ]
    if data.get("notes"):
        lines.append(f"Notes: {data['notes']}")
    return MeetingInvite(
        key=url,
        title=f"Intro call: {name}" + (f" ({lead['company']})" if lead.get("company") else ""),
        body="\n".join(lines),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=int(data["duration_minutes"])),
        lead_timezone=data["lead_timezone"],
        owner_id=_owner(data),
    )


@dataclass(frozen=True)
class Links:
    """The dialer's own URLs put in a CRM and in webhooks.

    Attributes:
        public_url: ``DIALER_PUBLIC_URL``.
        transcript_template: ``DIALER_CRM__TRANSCRIPT_URL`` (``{public_url}``, ``{attempt_id}``, ``{sig}``).
        link_secret: ``DIALER_CRM__LINK_SECRET`` (None: ``sig`` is empty and the link is not served).
    """

    public_url: str
    transcript_template: str
    link_secret: str | None = None

    def transcript(self, attempt_id: int) -> str:
        """The link to a call's transcript, signed (:func:`crm.transcripts.transcript_signature`)."""
        sig = transcript_signature(self.link_secret, attempt_id) if self.link_secret else ""
        return self.transcript_template.format(public_url=self.public_url, attempt_id=attempt_id, sig=sig)

    def meeting(self, meeting_id: int) -> str:
        """The meeting's URL in the dialer (its identity in HubSpot: ``hs_meeting_external_url``)."""
        return f"{self.public_url}/crm/meetings/{meeting_id}"


class CrmSync(Destination):
    """Delivers ``meeting.booked`` and ``call.completed`` messages to an external CRM.

    Args:
        name: the destination (``crm:hubspot``).
        adapter: the CRM.
        links: the dialer's URLs of calls' transcripts and of meetings.
    """

    def __init__(self, name: str, adapter: CrmAdapter, *, links: Links) -> None:
        self.name = name
        self._adapter = adapter
        self._links = links
        self.worst_case_seconds = adapter.worst_case_seconds

    def deliver(self, message: ClaimedMessage) -> dict[str, Any]:
        """Upsert the contact, then create the meeting or log the call; return the CRM ids.

        Raises:
            DeliveryError: the CRM failed, or the event type is not one a CRM receives (not retryable).
        """
        if message.event_type not in ("meeting.booked", "call.completed"):
            raise DeliveryError(f"a CRM does not receive {message.event_type} events", retryable=False)
        contact_id = self._adapter.upsert_contact(contact_from(message.payload))
        look_up = not message.first_try  # a retry looks for what an earlier try may have made
        if message.event_type == "meeting.booked":
            meeting = meeting_from(message, url=self._links.meeting(int(message.payload["meeting_id"])))
            meeting_id = self._adapter.create_meeting(meeting, contact_id=contact_id, look_up=look_up)
            return {"contact_id": contact_id, "meeting_id": meeting_id}
        link = self._links.transcript(int(message.payload["attempt_id"]))
        call = call_from(message, transcript_url=link)
        call_id = self._adapter.log_call(call, contact_id=contact_id, look_up=look_up)
        return {"contact_id": contact_id, "call_id": call_id}
