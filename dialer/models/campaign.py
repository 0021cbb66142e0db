"""Campaigns: who sells what, with which script, caller ID and calling policy."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import Timestamped
from dialer.models.enums import CampaignStatus


class Campaign(Timestamped, Base):
    """A calling campaign.

    Attributes:
        seller_name: the seller's legal name; spoken in the disclosure (47 CFR 64.1200(b)(1)) and
            matched against consent records (PEWC must name the seller, 64.1200(f)(9)).
        agent_name: the name the AI agent introduces itself with.
        product: a short description of what is being sold (16 CFR 310.4(d)).
        subject: the subject frequency caps group attempts by (FL, OK, MD: "same subject matter");
            None counts every attempt to the number as the same subject.
        caller_id: E.164 ``From`` number (a Twilio number or verified caller ID).
        callback_number: E.164 number given to the callee for DNC requests (64.1200(b)(2)).
        script: the sales playbook; ``{first_name}``, ``{company}``, ``{title}`` and any imported
            lead field are filled in per call.
        max_concurrent_calls: cap on live attempts of this campaign at any instant.
        max_attempts: calls placed to one lead at most (retries included).
        retry_delay_seconds: wait after a no-answer, busy, machine or failed attempt.
        record_calls: ask Twilio to record the call leg.
        voice_agent: the speech-to-speech backend of its calls (``openai``...); None: the
            ``voice_agent`` setting.
        max_call_seconds: the longest an answered call may last (Twilio's ``TimeLimit``); None: the
            ``call_time_limit_seconds`` setting, which also caps it.
        silence_timeout_seconds: hang up after this long with neither side speaking; None: the
            bridge's ``idle_hangup_ms``.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    seller_name: Mapped[str] = mapped_column(String(200))
    agent_name: Mapped[str] = mapped_column(String(80), default="Alex")
    product: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str | None] = mapped_column(String(200))
    caller_id: Mapped[str] = mapped_column(String(20))
    callback_number: Mapped[str] = mapped_column(String(20))
    script: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(
        StrEnumColumn(CampaignStatus, 20), default=CampaignStatus.DRAFT
    )
    max_concurrent_calls: Mapped[int] = mapped_column(default=5)
    max_attempts: Mapped[int] = mapped_column(default=3)
    retry_delay_seconds: Mapped[int] = mapped_column(default=3600)
    record_calls: Mapped[bool] = mapped_column(default=False)
    voice_agent: Mapped[str | None] = mapped_column(String(20))
    max_call_seconds: Mapped[int | None]
    silence_timeout_seconds: Mapped[int | None]
