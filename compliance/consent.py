"""Consent for an AI-voice telemarketing call, and the consent-based exemptions from DNC lists.

An AI voice is an "artificial voice" (FCC 24-17), so a telemarketing call needs PEWC to wireless
numbers and residential lines alike (47 CFR 64.1200(a)(2), (a)(3)). PEWC (64.1200(f)(9); CP-2) must
name the seller, identify the number called and authorise artificial/prerecorded-voice calls. Oral
consent and an established business relationship never suffice for an AI voice. Revocation and DNC
requests are honoured immediately, and a DNC request revokes every earlier consent: only a PEWC
obtained after it restores calling (64.1200(a)(10); CP-8). A signed agreement naming the seller and
the number exempts from the national and state DNC lists (64.1200(c)(2)(ii)); an EBR exempts from the
national list only (64.1200(f)(5)).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from dateutil.relativedelta import relativedelta

from compliance.facts import Consent, Ebr
from compliance.reasons import ReasonCode, ordered

_ENTITY_SUFFIXES = frozenset({"inc", "llc", "ltd", "corp", "corporation", "co", "company", "incorporated"})
_SPACES = re.compile(r"\s+")

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
        elif not category.startswith("P"):
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


def _canonical_number(value: str | None) -> str:
    if value is None:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value.strip()
    if not phonenumbers.is_valid_number(number):
        return value.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, slots=True)
class ConsentAssessment:
    """What the consent records allow for one call.

    Attributes:
        satisfied_by: index of the first record that is valid PEWC for an AI voice, or None.
        dnc_exempt_by: index of the first signed agreement naming the seller and the number, in force
            and obtained after any DNC request: it exempts from national and state DNC lists
            (64.1200(c)(2)(ii)) and lifts the internal-list block (CP-8). None when there is none.
        reasons: why no record is valid PEWC, in ``ReasonCode`` order; empty when satisfied.
        details: one line per record, for the trace.
    """

    satisfied_by: int | None
    dnc_exempt_by: int | None
    reasons: tuple[ReasonCode, ...]
    details: tuple[str, ...]


def _record_failures(
    record: Consent, *, seller: str | None, phone_e164: str | None, at: datetime, dnc_at: datetime | None
) -> tuple[set[ReasonCode], list[str]]:
    failures: set[ReasonCode] = set()
    why: list[str] = []
    if not any(same_seller(name, seller) for name in record.sellers):
        failures.add(ReasonCode.CONSENT_SELLER_MISMATCH)
        why.append(f"sellers {list(record.sellers)} do not include {seller!r}")
    if not phone_e164 or _canonical_number(record.phone_e164) != _canonical_number(phone_e164):
        failures.add(ReasonCode.CONSENT_NUMBER_MISMATCH)
        why.append(f"number {record.phone_e164} is not {phone_e164}")
    if record.obtained_at is None:
        if record.method.strip().casefold() != ATTESTATION_METHOD:
            failures.add(ReasonCode.CONSENT_MISSING)
            why.append("undated (obtained_at missing) and not an attestation")
    elif record.obtained_at > at:
        failures.add(ReasonCode.CONSENT_MISSING)
        why.append(f"obtained in the future ({record.obtained_at.isoformat()})")
    if record.revoked_at is not None and record.revoked_at <= at:
        failures.add(ReasonCode.CONSENT_REVOKED)
        why.append(f"revoked at {record.revoked_at.isoformat()}")
    if dnc_at is not None and (record.obtained_at is None or record.obtained_at <= dnc_at):
        failures.add(ReasonCode.CONSENT_REVOKED)
        why.append(f"not obtained after the DNC request of {dnc_at.isoformat()}")
    return failures, why


def assess_consent(
    consents: Sequence[Consent],
    *,
    seller: str | None,
    phone_e164: str | None,
    at: datetime,
    dnc_requested_at: datetime | None,
) -> ConsentAssessment:
    """Whether some record is valid PEWC for this seller, number and instant (CP-2, CP-8).

    A record is valid PEWC (47 CFR 64.1200(a)(2),(a)(3),(f)(9); FCC 24-17) when it is of type ``pewc``;
    names the seller among its ``sellers``; identifies the dialed number; covers artificial voice; was
    obtained at or before ``at`` (an undated record counts only as an ``attestation``); is not revoked
    at ``at``; and was obtained strictly after the latest DNC request (an undated one cannot show that).

    Reasons when none is valid: no record or only ``none`` -> ``CONSENT_MISSING``; only ``oral`` ->
    ``CONSENT_NOT_WRITTEN``; otherwise the union of the PEWC records' failures.

    Args:
        consents: every consent record for the number.
        seller: the campaign's seller, or None (nothing matches it).
        phone_e164: the number dialed.
        at: the decision instant (aware).
        dnc_requested_at: the latest internal DNC request, or None.

    Returns:
        The assessment (see ``ConsentAssessment``).
    """
    details: list[str] = []
    satisfied_by: int | None = None
    exempt_by: int | None = None
    failures_union: set[ReasonCode] = set()
    kinds = {c.type for c in consents}
    for index, record in enumerate(consents):
        if record.type != "pewc":
            details.append(f"consent[{index}]: type {record.type!r} is not written consent")
            continue
        failures, why = _record_failures(
            record, seller=seller, phone_e164=phone_e164, at=at, dnc_at=dnc_requested_at
        )
        ai_ok = record.covers_artificial_voice is True
        if not ai_ok:
            why.append("does not cover artificial/AI voice")
        if not failures and exempt_by is None:
            exempt_by = index
        if not ai_ok:
            failures.add(ReasonCode.CONSENT_NO_ARTIFICIAL_VOICE)
        if failures:
            failures_union |= failures
            details.append(f"consent[{index}]: pewc fails: " + "; ".join(why))
        else:
            details.append(f"consent[{index}]: valid pewc")
            if satisfied_by is None:
                satisfied_by = index
    if satisfied_by is not None:
        reasons: tuple[ReasonCode, ...] = ()
    elif "pewc" in kinds:
        reasons = ordered(failures_union)
    elif "oral" in kinds:
        reasons = (ReasonCode.CONSENT_NOT_WRITTEN,)
    else:
        reasons = (ReasonCode.CONSENT_MISSING,)
    if not consents:
        details.append("no consent record")
    return ConsentAssessment(satisfied_by, exempt_by, reasons, tuple(details))


EBR_PURCHASE_MONTHS = 18
"""An EBR from a purchase or transaction lasts 18 months (47 CFR 64.1200(f)(5))."""
EBR_INQUIRY_MONTHS = 3
"""An EBR from an inquiry or application lasts 3 months (47 CFR 64.1200(f)(5))."""


def ebr_in_force(ebr: Ebr | None, *, at: datetime, dnc_requested_at: datetime | None) -> tuple[bool, str]:
    """Whether an EBR exempts the call from the national DNC registry at ``at`` (64.1200(f)(5)).

    In force when formed at or before ``at``, within 18 months (purchase) or 3 months (inquiry) before
    it, and not terminated by a seller-specific DNC request. CP-8 keeps DNC requests forever, so any
    internal request on file terminates the EBR.

    Returns:
        ``(in_force, why)``.
    """
    if ebr is None:
        return False, "no EBR"
    months = EBR_PURCHASE_MONTHS if ebr.type == "purchase" else EBR_INQUIRY_MONTHS
    if ebr.at > at:
        return False, f"EBR dated in the future ({ebr.at.isoformat()})"
    if ebr.at + relativedelta(months=months) <= at:
        return False, f"{ebr.type} EBR of {ebr.at.isoformat()} expired after {months} months"
    if dnc_requested_at is not None:
        return False, f"terminated by the DNC request of {dnc_requested_at.isoformat()} (CP-8)"
    return True, f"{ebr.type} EBR of {ebr.at.isoformat()} in force ({months} months)"
