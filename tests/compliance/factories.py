"""Builders for gate inputs with real numbers and instants (fictional 555-01XX lines)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from compliance import ConsentFact, DncFact, GateInput

SELLER = "Northwind Analytics, Inc."
SIGNED = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)

CHICAGO = "America/Chicago"
NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
ADAK = "America/Adak"
ANCHORAGE = "America/Anchorage"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def pewc(phone: str, **overrides: object) -> ConsentFact:
    values: dict[str, object] = {
        "consent_type": "pewc",
        "phone_e164": phone,
        "seller_name": "Northwind Analytics",
        "covers_artificial_voice": True,
        "signed_at": SIGNED,
        "revoked_at": None,
        "method": "web_form",
        "evidence": "https://forms.example/consent/abc123",
    }
    values.update(overrides)
    return ConsentFact(**values)  # type: ignore[arg-type]


def dnc(requested_at: datetime, list_name: str = "internal") -> DncFact:
    return DncFact(list_name=list_name, requested_at=requested_at, source="call:42 honor_dnc")


def gate_input(
    phone: str,
    *,
    state: str | None = None,
    zip_code: str | None = None,
    consents: tuple[ConsentFact, ...] | None = None,
    dnc_entries: tuple[DncFact, ...] = (),
    seller: str = SELLER,
) -> GateInput:
    """An input with valid PEWC for ``phone`` unless ``consents`` is given."""
    return GateInput(
        phone_e164=phone,
        seller_name=seller,
        address_state=state,
        address_zip=zip_code,
        consents=(pewc(phone),) if consents is None else consents,
        dnc=dnc_entries,
    )
