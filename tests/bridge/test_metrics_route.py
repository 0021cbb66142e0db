"""``GET /metrics``: the bridge's Prometheus metrics in the text exposition format."""

from fastapi.testclient import TestClient

from bridge.app import create_app
from tests.fakes.agent import FakeVoiceAgent


def test_metrics_are_served_in_prometheus_text_format(runtime):
    client = TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    for name in (
        "dialer_bridge_active_calls",
        "dialer_bridge_first_audio_seconds_bucket",
        "dialer_bridge_turn_latency_seconds_bucket",
        "dialer_bridge_barge_ins_total",
        "dialer_bridge_agent_errors_total",
    ):
        assert name in response.text
