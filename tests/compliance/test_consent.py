"""PEWC checks (47 CFR 64.1200(a)(2),(a)(3),(f)(9); FCC 24-17; CP-2) and DNC revocation (CP-8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance import ConsentFact, ReasonCode
from compliance.consent import check_consent, normalize_seller_name, same_seller
from tests.compliance.factories import SELLER, SIGNED, pewc, utc

PHONE = "+13125550123"
NOW = utc(2026, 6, 15, 15, 0)
R = ReasonCode


def check(*consents: ConsentFact, latest_dnc_at=None, seller=SELLER, phone=PHONE):
    return check_consent(consents, seller_name=seller, phone_e164=phone, now=NOW, latest_dnc_at=latest_dnc_at)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Northwind Analytics, Inc.", "northwind analytics"),
        ("NORTHWIND  ANALYTICS L.L.C.", "Northwind Analytics"),
        ("Northwind Analytics LLC", "Northwind Analytics Corporation"),
        ("Northwind-Analytics", "Northwind Analytics"),
        ("  Northwind Analytics Company ", "Northwind Analytics Co."),
        ("Joe's Roofing, Ltd.", "Joes Roofing"),
    ],
)
def test_seller_names_that_match(a, b):
    assert same_seller(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Northwind Analytics", "Northwind Analytic"),
        ("Northwind Analytics Group", "Northwind Analytics"),
        ("Northwind Analytics", "Southwind Analytics, Inc."),
        (None, "Northwind Analytics"),
        ("", ""),
        ("Inc.", ""),
    ],
)
def test_seller_names_that_do_not_match(a, b):
    assert not same_seller(a, b)


def test_normalized_seller_name():
    assert normalize_seller_name("Northwind Analytics, Inc.") == "northwind analytics"
    assert normalize_seller_name("Company") == "company"  # a suffix alone is not dropped


def test_valid_pewc_is_satisfied():
    result = check(pewc(PHONE))
    assert result.satisfied_by == 0
    assert result.reasons == ()


def test_first_valid_record_is_reported():
    result = check(pewc(PHONE, seller_name="Other Co"), pewc(PHONE))
    assert result.satisfied_by == 1
    assert result.reasons == ()
    assert result.record_reasons == ((R.CONSENT_SELLER_MISMATCH,), ())


def test_no_records_is_missing():
    assert check().reasons == (R.CONSENT_MISSING,)
    assert check(pewc(PHONE, consent_type="none")).reasons == (R.CONSENT_MISSING,)


@pytest.mark.parametrize("kind", ["oral", "ebr"])
def test_oral_or_ebr_only_is_not_written(kind):
    result = check(pewc(PHONE, consent_type=kind), pewc(PHONE, consent_type="none"))
    assert result.satisfied_by is None
    assert result.reasons == (R.CONSENT_NOT_WRITTEN,)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"seller_name": "Contoso Marketing LLC"}, R.CONSENT_SELLER_MISMATCH),
        ({"seller_name": None}, R.CONSENT_SELLER_MISMATCH),
        ({"phone_e164": "+13125550199"}, R.CONSENT_NUMBER_MISMATCH),
        ({"covers_artificial_voice": False}, R.CONSENT_NO_ARTIFICIAL_VOICE),
        ({"revoked_at": NOW}, R.CONSENT_REVOKED),
        ({"revoked_at": NOW - timedelta(days=3)}, R.CONSENT_REVOKED),
        ({"signed_at": NOW + timedelta(seconds=1)}, R.CONSENT_MISSING),
        ({"signed_at": None}, R.CONSENT_MISSING),
    ],
)
def test_each_pewc_failure_alone(overrides, reason):
    result = check(pewc(PHONE, **overrides))
    assert result.satisfied_by is None
    assert result.reasons == (reason,)


def test_undated_attestation_counts_until_a_dnc_request():
    attested = pewc(PHONE, signed_at=None, method="attestation", evidence="Opted in via partner webinar form")
    assert check(attested).satisfied_by == 0
    assert check(attested, latest_dnc_at=NOW - timedelta(days=1)).reasons == (R.CONSENT_REVOKED,)


def test_revocation_in_the_future_does_not_revoke_yet():
    result = check(pewc(PHONE, revoked_at=NOW + timedelta(minutes=1)))
    assert result.satisfied_by == 0


def test_signed_exactly_now_is_valid():
    assert check(pewc(PHONE, signed_at=NOW)).satisfied_by == 0


def test_oral_consent_does_not_rescue_a_failing_pewc():
    result = check(pewc(PHONE, consent_type="oral"), pewc(PHONE, covers_artificial_voice=False))
    assert result.reasons == (R.CONSENT_NO_ARTIFICIAL_VOICE,)


def test_failures_of_several_pewc_records_are_unioned_in_enum_order():
    result = check(
        pewc(PHONE, revoked_at=SIGNED + timedelta(days=1)),
        pewc("+13125550199", seller_name="Contoso"),
    )
    assert result.reasons == (R.CONSENT_SELLER_MISMATCH, R.CONSENT_NUMBER_MISMATCH, R.CONSENT_REVOKED)
    assert len(result.details) == 2


def test_dnc_request_revokes_earlier_consent():
    dnc_at = SIGNED + timedelta(days=10)
    assert check(pewc(PHONE), latest_dnc_at=dnc_at).reasons == (R.CONSENT_REVOKED,)
    # Signed at the same instant as the request: not strictly after, still revoked.
    assert check(pewc(PHONE, signed_at=dnc_at), latest_dnc_at=dnc_at).reasons == (R.CONSENT_REVOKED,)
    # A new PEWC signed after the request restores consent.
    renewed = pewc(PHONE, signed_at=dnc_at + timedelta(seconds=1))
    assert check(pewc(PHONE), renewed, latest_dnc_at=dnc_at).satisfied_by == 1


def test_consent_number_is_compared_as_e164():
    # Same number written with spaces in the stored consent still identifies the dialed number.
    assert check(pewc("+1 312 555 0123")).satisfied_by == 0
    # A national-format number without country code cannot be shown to be the same number.
    assert check(pewc("3125550123")).reasons == (R.CONSENT_NUMBER_MISMATCH,)


def test_truthy_non_bool_artificial_voice_flag_is_not_accepted():
    assert check(pewc(PHONE, covers_artificial_voice="false")).reasons == (R.CONSENT_NO_ARTIFICIAL_VOICE,)
