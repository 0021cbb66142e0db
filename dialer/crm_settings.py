"""Settings of CRM sync and outbound webhooks (``DIALER_CRM__<FIELD>``), and of their outbox.

::

    DIALER_CRM__BACKEND=hubspot                  # builtin (default): the dialer's own tables only
    DIALER_CRM__HUBSPOT__ACCESS_TOKEN=pat-na1-...  # a private app's token (CRM object write scopes)
    DIALER_CRM__HUBSPOT__OWNER_ID=12345678       # the HubSpot owner meetings and calls are assigned to
    DIALER_CRM__WEBHOOKS='[{"name": "ops", "url": "https://hooks.example.com/dialer",
                            "secret": "<32+ random characters>", "events": ["call.completed"]}]'
    DIALER_CRM__OUTBOX__MAX_ATTEMPTS=8

Unset webhooks and the ``builtin`` backend publish nothing: events are still written to the
outbox (they are the record of what happened) but no message is made for them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

HUBSPOT_API_URL = "https://api.hubapi.com"
"""HubSpot's API host; a sandbox (``python -m sandbox.hubspot``) replaces it in rehearsals."""
EVENT_TYPES = ("call.completed", "meeting.booked", "dnc.added")
"""The events there are (:class:`dialer.models.OutboxEventType`)."""
CrmBackend = Literal["builtin", "hubspot"]


def _http_url(value: str) -> str:
    """``value`` if it is an absolute http(s) URL, else ValueError (pydantic names the field)."""
    if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
        raise ValueError(f"{value!r} is not an http(s):// URL")
    return value


class HubSpotSettings(BaseModel):
    """The HubSpot backend (``DIALER_CRM__HUBSPOT__<FIELD>``).

    Attributes:
        access_token: a private app's access token, sent as ``Authorization: Bearer``.
        base_url: the API host (:data:`HUBSPOT_API_URL`; a sandbox's URL in rehearsals).
        owner_id: the owner (``hubspot_owner_id``) of the meetings and calls logged whose rep has
            no HubSpot owner id of their own (``dialer users set-hubspot-owner``).
        timeout_seconds: per HTTP request; a request past it counts as an unknown outcome.
    """

    access_token: SecretStr | None = None
    base_url: str = HUBSPOT_API_URL
    owner_id: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("base_url")
    @classmethod
    def _host(cls, value: str) -> str:
        return _http_url(value).rstrip("/")


class WebhookEndpoint(BaseModel):
    """One receiver of signed webhooks.

    Attributes:
        name: a short name, unique (the outbox destination is ``webhook:<name>``).
        url: where the events are POSTed.
        secret: the HMAC-SHA256 key both sides hold (24+ characters).
        events: the event types it receives (default all of :data:`EVENT_TYPES`).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    url: str
    secret: SecretStr
    events: list[str] = Field(default_factory=lambda: list(EVENT_TYPES))

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 24:
            raise ValueError("a webhook secret must be 24+ random characters")
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
        return value


class OutboxParams(BaseModel):
    """How the outbox retries (``DIALER_CRM__OUTBOX__<FIELD>``).

    A failed delivery waits ``base_delay_seconds * 2 ** (attempts - 1)``, at most
    ``max_delay_seconds``; after ``max_attempts`` failed tries the message is dead (dead letter).

    Attributes:
        max_attempts: tries before the dead letter.
        base_delay_seconds: the wait after the first failure.
        max_delay_seconds: the longest wait between two tries.
        batch_size: messages one claim takes at most (fewer when they would not all finish
            within the lease: ``crm.outbox.claim_plan``).
        lease_seconds: a claimed message is due again after this long if its worker died; raised
            by the drain to outlast one delivery's worst case (HubSpot: 4 requests, each up to
            twice ``timeout_seconds``).
        drain_interval_seconds: how often beat runs the drain.
        keep_delivered_days: delivered messages (and their delivery log) older than this are
            pruned by the drain task (``dialer crm prune`` does it by hand).
    """

    max_attempts: int = Field(default=8, ge=1, le=50)
    base_delay_seconds: float = Field(default=30.0, gt=0)
    max_delay_seconds: float = Field(default=3600.0, gt=0)
    batch_size: int = Field(default=50, ge=1, le=1000)
    lease_seconds: float = Field(default=600.0, gt=0)
    drain_interval_seconds: float = Field(default=5.0, gt=0)
    keep_delivered_days: float = Field(default=30.0, gt=0)


class CrmSettings(BaseModel):
    """CRM sync and webhooks (``Settings.crm``).

    Attributes:
        backend: ``builtin`` (the dialer's tables are the CRM) or ``hubspot`` (also synced there).
        link_secret: the key of the signed transcript links (``crm.transcripts``); unset, the
            links are not served (404).
        transcript_url: the link to a call's transcript put in the CRM and the webhooks;
            ``{public_url}``, ``{attempt_id}`` and ``{sig}`` (the link's signature) are filled in.
    """

    backend: CrmBackend = "builtin"
    hubspot: HubSpotSettings = HubSpotSettings()
    webhooks: list[WebhookEndpoint] = Field(default_factory=list)
    outbox: OutboxParams = OutboxParams()
    link_secret: SecretStr | None = None
    transcript_url: str = "{public_url}/crm/calls/{attempt_id}/transcript?sig={sig}"

    @model_validator(mode="after")
    def _consistent(self) -> CrmSettings:
        if self.backend == "hubspot" and self.hubspot.access_token is None:
            raise ValueError("DIALER_CRM__BACKEND=hubspot needs DIALER_CRM__HUBSPOT__ACCESS_TOKEN")
        names = [w.name for w in self.webhooks]
        if len(set(names)) != len(names):
            raise ValueError(f"webhook names must be unique: {names}")
        return self

    def production_problems(self) -> list[str]:
        """What production refuses here: plain-HTTP webhooks, a HubSpot host that is not HubSpot's."""
        problems = [
            f"DIALER_CRM__WEBHOOKS: {w.name!r} must be https:// in production"
            for w in self.webhooks
            if not w.url.startswith("https://")
        ]
        if self.link_secret is not None and len(self.link_secret.get_secret_value()) < 24:
            problems.append("DIALER_CRM__LINK_SECRET must be a random secret of 24+ characters")
        if self.backend == "hubspot" and self.hubspot.base_url != HUBSPOT_API_URL:
            problems.append(f"DIALER_CRM__HUBSPOT__BASE_URL points at a sandbox; use {HUBSPOT_API_URL}")
        return problems

    def destinations_for(self, event_type: str) -> list[str]:
        """The outbox destinations an event of ``event_type`` goes to, in a stable order."""
        found = [f"webhook:{w.name}" for w in self.webhooks if event_type in w.events]
        if self.backend == "hubspot" and event_type in ("call.completed", "meeting.booked"):
            found.insert(0, "crm:hubspot")
        return found
