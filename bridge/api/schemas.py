"""The REST API's request and response bodies (pydantic; inputs refuse unknown fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dialer.models import (
    AssignmentRuleKind,
    AttemptStatus,
    CampaignStatus,
    DispositionName,
    DispositionSource,
    Role,
)

MAX_ID = 2_147_483_647
"""Largest row id (the columns are 32-bit); a larger one is a 422, never a database error."""
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
AfterId = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Last id of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]


def storable(value: str, where: str) -> str:
    """``value`` if the database can store it (no NUL character, no lone surrogate).

    Raises:
        ValueError: it cannot be stored (pydantic reports it as a 422 naming ``where``).
    """
    if "\x00" in value:
        raise ValueError(f"{where}: a NUL character cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{where}: not valid Unicode text (a lone surrogate)") from None
    return value


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> _Input:
        for name, value in self:
            if isinstance(value, str):
                storable(value, name)
        return self


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginRequest(_Input):
    """``POST /api/auth/login``."""

    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class Me(_Output):
    """The caller: login, role and how they authenticated."""

    username: str
    role: Role
    via: Literal["token", "session"]


class LoginResponse(_Output):
    """A console session: the cookie is set; send ``csrf_token`` with every unsafe request."""

    username: str
    role: Role
    csrf_token: str
    expires_at: datetime


class AssignmentRuleIn(_Input):
    """Who gets a campaign's booked meetings: ``none`` (by hand), ``fixed`` (one rep), ``round_robin``."""

    rule: AssignmentRuleKind = AssignmentRuleKind.NONE
    reps: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=100, description="Reps' logins, in turn order (fixed: exactly one)."
    )

    @field_validator("reps")
    @classmethod
    def _storable_reps(cls, value: list[str]) -> list[str]:
        return [storable(name, "reps") for name in value]


class AssignmentRulePublic(BaseModel):
    """A campaign's assignment rule and its reps' logins in turn order."""

    rule: AssignmentRuleKind
    reps: list[str]


class CampaignCreate(_Input):
    """``POST /api/campaigns``: the fields of ``dialer campaigns create`` (numbers in any common format)."""

    name: str = Field(min_length=1, max_length=200)
    seller_name: str = Field(min_length=1, max_length=200)
    caller_id: str = Field(max_length=40)
    product: str = Field("", max_length=500)
    agent_name: str = Field("Alex", min_length=1, max_length=80)
    callback_number: str | None = Field(None, max_length=40)
    script: str | None = Field(None, description="The script template; default: the built-in one.")
    max_concurrent_calls: int = Field(5, ge=1, le=10_000)
    max_attempts: int = Field(3, ge=1, le=100)
    retry_delay_seconds: int = Field(3600, ge=0, le=365 * 86400)
    record_calls: bool = False
    subject: str | None = Field(None, max_length=200)
    voice_agent: str | None = Field(None, max_length=20)
    max_call_seconds: int | None = Field(None, ge=60, le=14_400)
    silence_timeout_seconds: int | None = Field(None, ge=5, le=600)
    assignment: AssignmentRuleIn | None = Field(None, description="Default: none (ops assign by hand).")


class CampaignUpdate(_Input):
    """``PATCH /api/campaigns/{id}``: the settings to change (today: the assignment rule)."""

    assignment: AssignmentRuleIn


class LeadCounts(BaseModel):
    """A campaign's leads by status; ``open`` counts those not yet final."""

    by_status: dict[str, int]
    total: int
    open: int


class CampaignPublic(_Output):
    """A campaign's settings and its lead counts."""

    id: int
    name: str
    status: CampaignStatus
    seller_name: str
    agent_name: str
    product: str
    subject: str | None
    caller_id: str
    callback_number: str
    max_concurrent_calls: int
    max_attempts: int
    retry_delay_seconds: int
    record_calls: bool
    voice_agent: str | None
    max_call_seconds: int | None
    silence_timeout_seconds: int | None
    leads: LeadCounts | None = None
    assignment: AssignmentRulePublic | None = None


class RejectedRowPublic(_Output):
    """A row the import did not take: physical line, column header, value as written, reason."""

    row: int
    column: str | None
    value: str | None
    reason: str


class LeadImportPublic(BaseModel):
    """What a lead import did (the same counts ``dialer leads import`` prints)."""

    campaign_id: int
    leads_created: int
    consents_created: int
    rejected_count: int
    folded_count: int
    warnings_count: int
    mapping: dict[str, str]
    rejected: list[RejectedRowPublic]
    file_sha256: str


class AttemptPublic(_Output):
    """One call attempt (times UTC)."""

    id: int
    campaign_id: int
    lead_id: int
    attempt_number: int
    status: AttemptStatus
    to_e164: str
    from_e164: str
    call_sid: str | None
    answered_by: str | None
    requested_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    disclosure_played_at: datetime | None


class MeetingAssign(_Input):
    """``PUT /api/meetings/{id}/rep``: the rep's login."""

    username: str = Field(max_length=200)


class DispositionPublic(_Output):
    """One recorded outcome (``recorded_at`` UTC)."""

    id: int
    campaign_id: int
    lead_id: int
    attempt_id: int | None
    name: DispositionName
    source: DispositionSource
    notes: str
    recorded_at: datetime


class DncCreate(_Input):
    """``POST /api/dnc``: a number (any common format) and why."""

    phone: str = Field(max_length=40)
    reason: str = Field("", max_length=2000)


class DncPublic(_Output):
    """One internal DNC entry (``requested_at`` UTC)."""

    id: int
    phone_e164: str
    source: str
    reason: str
    requested_at: datetime


class UserCreate(_Input):
    """A new account: its login, role and password (12 or more characters)."""

    username: str = Field(min_length=1, max_length=80)
    role: Role
    password: str = Field(max_length=1024)


class RoleChange(_Input):
    """The role a user gets."""

    role: Role


class UserPublic(_Output):
    """An account; ``disabled_at`` and ``last_login_at`` in UTC (None: active / never)."""

    id: int
    username: str
    role: Role
    disabled_at: datetime | None
    last_login_at: datetime | None
