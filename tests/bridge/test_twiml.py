import pytest

from bridge.twiml import connect_stream, hang_up


def test_connect_stream_golden_xml():
    xml = connect_stream(
        stream_url="wss://dialer.example.com/twilio/media", parameters={"attempt": "42", "token": "tok_abc"}
    )
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://dialer.example.com/twilio/media">'
        '<Parameter name="attempt" value="42" /><Parameter name="token" value="tok_abc" />'
        "</Stream></Connect></Response>"
    )


def test_stream_url_with_query_string_is_refused():
    with pytest.raises(ValueError, match="query string"):
        connect_stream(stream_url="wss://dialer.example.com/twilio/media?attempt=42", parameters={})


def test_parameter_over_twilio_limit_is_refused():
    with pytest.raises(ValueError, match="too long"):
        connect_stream(stream_url="wss://x.example/m", parameters={"token": "x" * 495})


def test_hang_up_golden_xml():
    assert hang_up() == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
