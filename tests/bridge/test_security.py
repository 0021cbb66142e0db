"""Signature checks against Twilio's own test vectors (../shared/data/twilio_signature_test_vectors.json)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from bridge.security import TwilioSignatureCheck
from tests.conftest import FIXTURES

VECTORS = json.loads((FIXTURES / "twilio_signature_test_vectors.json").read_text())
FORM_CASES = [c for c in VECTORS["cases"] if "body" not in c]
BODY_CASES = [c for c in VECTORS["cases"] if "body" in c]


def _form_items(params):
    for key, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            yield key, v


@pytest.mark.parametrize("case", FORM_CASES, ids=[c["id"] for c in FORM_CASES])
def test_webhook_vectors(case):
    parts = urlsplit(case["url"])
    check = TwilioSignatureCheck(VECTORS["auth_token"], f"{parts.scheme}://{parts.netloc}")
    valid = check.webhook_is_valid(
        path=parts.path,
        raw_query=parts.query,
        form=list(_form_items(case["params"])),
        signature=case["signature"],
    )
    assert valid is case["expected_valid"]


@pytest.mark.parametrize("case", BODY_CASES, ids=[c["id"] for c in BODY_CASES])
def test_json_body_vectors_with_the_validator_we_rely_on(case):
    """Carrier webhooks we accept are form posts; JSON-body signing is the library's and is checked here."""
    validator = RequestValidator(VECTORS["auth_token"])
    signed_body = "bodySHA256" in parse_qs(urlsplit(case["url"]).query)
    valid = signed_body and validator.validate(case["url"], case["body"], case["signature"])
    assert valid is case["expected_valid"]


def test_missing_or_tampered_signature_is_refused():
    check = TwilioSignatureCheck("12345", "https://mycompany.com")
    case = FORM_CASES[0]
    form = list(_form_items(case["params"]))
    assert not check.webhook_is_valid(path="/myapp.php", raw_query="foo=1&bar=2", form=form, signature=None)
    tampered = [(k, "+15555550100" if k == "From" else v) for k, v in form]
    assert not check.webhook_is_valid(
        path="/myapp.php", raw_query="foo=1&bar=2", form=tampered, signature=case["signature"]
    )


def test_stream_signature_is_over_the_wss_url():
    validator = RequestValidator("secret-token")
    check = TwilioSignatureCheck("secret-token", "https://dialer.example.com")
    url = "wss://dialer.example.com/twilio/media"
    assert check.stream_is_valid(stream_url=url, signature=validator.compute_signature(url, {}))
    assert check.stream_is_valid(stream_url=url, signature=validator.compute_signature(url + "/", {}))
    https_signed = validator.compute_signature("https://dialer.example.com/twilio/media", {})
    assert not check.stream_is_valid(stream_url=url, signature=https_signed)
    assert not check.stream_is_valid(stream_url=url, signature=None)
