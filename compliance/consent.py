"""Prior express written consent (PEWC) for an AI-voice telemarketing call.

An AI voice is an "artificial voice" (FCC 24-17), so a telemarketing call needs PEWC to wireless
numbers and residential lines alike (47 CFR 64.1200(a)(2), (a)(3)). PEWC (64.1200(f)(9); CP-2) must
name the seller, identify the number called and authorise artificial/prerecorded-voice calls. Oral
consent and an established business relationship do not suffice. Revocation and DNC requests are
honoured immediately, and a DNC request revokes every earlier consent (64.1200(a)(10); CP-8).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from compliance.facts import ConsentFact
from compliance.reasons import ReasonCode

_ENTITY_SUFFIXES = frozenset({"inc", "llc", "ltd", "corp", "corporation", "co", "company", "incorporated"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """Outcome of ``check_consent``.

    Attributes:
        satisfied_by: index in ``consents`` of the first record that satisfies PEWC, or None.
        reasons: why no record satisfies PEWC, in ``ReasonCode`` order; empty when satisfied.
        details: one human-readable line per record (``"consents[0]: pewc ok"``), for the audit.
        record_reasons: for each record, the reasons it fails (empty for a satisfying record).
    """

    satisfied_by: int | None
    reasons: tuple[ReasonCode, ...]
    details: list[str] = field(default_factory=list)
    record_reasons: tuple[tuple[ReasonCode, ...], ...] = ()


ATTESTATION_METHOD = "attestation"
"""Consent method of a recorded attestation (the importer's ``--consent-attestation``)."""


def normalize_seller_name(name: str | None) -> str:
    """Comparable form of a seller's name: "Northwind Analytics, Inc." -> "northwind analytics".

    Casefold, NFKC, dashes to spaces, other punctuation removed (so "L.L.C." -> "llc"), spaces
    collapsed, and one trailing entity suffix dropped (inc, llc, ltd, corp, corporation, co, company,
    incorporated) unless it is the whole name. Symbols such as "+" are kept.

    Args:
        name: a seller name as written in a consent or a campaign, or None.

    Returns:
        The normalised name; "" for None or a name with no letters or digits.
    """
    if name is None:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    chars = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Pd":
            chars.append(" ")
        elif category.startswith("P"):
            continue
        else:
            chars.append(ch)
    words = _SPACES.sub(" ", "".join(chars)).strip().split(" ")
    if len(words) > 1 and words[-1] in _ENTITY_SUFFIXES:
        words = words[:-1]
    return " ".join(w for w in words if w)


def same_seller(a: str | None, b: str | None) -> bool:
    """Whether two seller names name the same seller after ``normalize_seller_name`` (CP-2).

    An empty name never matches anything.
    """
    na, nb = normalize_seller_name(a), normalize_seller_name(b)
    return bool(na) and na == nb


def _canonical_number(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value.strip()
    if not phonenumbers.is_valid_number(number):
        return value.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _pewc_failures(
    record: ConsentFact, *, seller_name: str, phone_e164: str, now: datetime, latest_dnc_at: datetime | None
) -> tuple[set[ReasonCode], list[str]]:
    failures: set[ReasonCode] = set()
    why: list[str] = []
    if not same_seller(record.seller_name, seller_name):
        failures.add(ReasonCode.CONSENT_SELLER_MISMATCH)
        why.append(f"seller {record.seller_name!r} is not {seller_name!r}")
    if _canonical_number(record.phone_e164) != _canonical_number(phone_e164):
        failures.add(ReasonCode.CONSENT_NUMBER_MISMATCH)
        why.append(f"number {record.phone_e164} is not {phone_e164}")
    if record.covers_artificial_voice is not True:
        failures.add(ReasonCode.CONSENT_NO_ARTIFICIAL_VOICE)
        why.append("does not cover artificial/AI voice")
    if record.signed_at is None:
        if record.method.strip().casefold() != ATTESTATION_METHOD:
            failures.add(ReasonCode.CONSENT_MISSING)
            why.append("undated (signed_at missing)")
    elif record.signed_at > now:
        failures.add(ReasonCode.CONSENT_MISSING)
        why.append(f"signed in the future ({record.signed_at.isoformat()})")
    if record.revoked_at is not None and record.revoked_at <= now:
        failures.add(ReasonCode.CONSENT_REVOKED)
        why.append(f"revoked at {record.revoked_at.isoformat()}")
    if latest_dnc_at is not None and (record.signed_at is None or record.signed_at <= latest_dnc_at):
        failures.add(ReasonCode.CONSENT_REVOKED)
        why.append(f"not signed after the DNC request of {latest_dnc_at.isoformat()}")
    return failures, why


def _ordered(reasons: set[ReasonCode]) -> tuple[ReasonCode, ...]:
    return tuple(r for r in ReasonCode if r in reasons)


def check_consent(
    consents: Sequence[ConsentFact],
    *,
    seller_name: str,
    phone_e164: str,
    now: datetime,
    latest_dnc_at: datetime | None,
) -> ConsentResult:
    """Whether some consent record is valid PEWC for this seller, number and instant.

    A record satisfies PEWC (47 CFR 64.1200(a)(2),(a)(3),(f)(9); FCC 24-17; CP-2) when it is of type
    ``"pewc"``; names the campaign's seller (``same_seller``); identifies the dialed number (same
    E.164); covers artificial voice; was signed at or before ``now`` (an undated record counts only
    when it is an ``attestation``: the seller's recorded statement that PEWC was captured elsewhere,
    date unknown); is not revoked at ``now``
    (``revoked_at <= now``; a future ``revoked_at`` does not revoke yet); and was signed strictly after
    the latest DNC request (CP-8: a DNC request revokes earlier consent; an undated record cannot show
    it came later).

    Reasons when none satisfies: no records or only ``"none"`` -> ``CONSENT_MISSING``; no PEWC but
    oral/EBR -> ``CONSENT_NOT_WRITTEN``; otherwise the union of the PEWC records' failures (a future
    ``signed_at``, or a missing one outside an attestation, counts as ``CONSENT_MISSING``).

    Args:
        consents: every consent record for the lead/number.
        seller_name: the campaign's seller.
        phone_e164: the number dialed, E.164.
        now: the decision instant (aware).
        latest_dnc_at: the latest internal DNC request at or before ``now``, or None.

    Returns:
        The first satisfying record's index, or the reasons none does, plus per-record details.
    """
    details: list[str] = []
    per_record: list[tuple[ReasonCode, ...]] = []
    satisfied_by: int | None = None
    pewc_failures: set[ReasonCode] = set()
    kinds: set[str] = set()
    for index, record in enumerate(consents):
        kind = record.consent_type.strip().casefold()
        kinds.add(kind)
        if kind != "pewc":
            code = ReasonCode.CONSENT_NOT_WRITTEN if kind in ("oral", "ebr") else ReasonCode.CONSENT_MISSING
            per_record.append((code,))
            details.append(f"consents[{index}]: type {record.consent_type!r} is not written consent")
            continue
        failures, why = _pewc_failures(
            record, seller_name=seller_name, phone_e164=phone_e164, now=now, latest_dnc_at=latest_dnc_at
        )
        per_record.append(_ordered(failures))
        if failures:
            pewc_failures |= failures
            details.append(f"consents[{index}]: pewc fails: " + "; ".join(why))
        else:
            details.append(f"consents[{index}]: pewc ok")
            if satisfied_by is None:
                satisfied_by = index
    if satisfied_by is not None:
        reasons: tuple[ReasonCode, ...] = ()
    elif "pewc" in kinds:
        reasons = _ordered(pewc_failures)
    elif kinds & {"oral", "ebr"}:
        reasons = (ReasonCode.CONSENT_NOT_WRITTEN,)
    else:
        reasons = (ReasonCode.CONSENT_MISSING,)
    if not consents:
        details.append("no consent records")
    return ConsentResult(satisfied_by, reasons, details, tuple(per_record))
