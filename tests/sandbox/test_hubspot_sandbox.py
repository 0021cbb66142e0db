"""The sandbox HubSpot answers as HubSpot's CRM v3 reference says, and fails only when asked."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.hubspot import DEFAULT_TOKEN, create_hubspot_app

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def _upsert(client: TestClient, email: str, **properties: str):
    body = {"inputs": [{"idProperty": "email", "id": email, "properties": properties}]}
    return client.post(UPSERT, json=body, headers=AUTH)


def test_upsert_by_email_creates_once_then_updates():
    client = TestClient(create_hubspot_app())
    first = _upsert(client, "Ava@Example.com", firstname="Ava").json()
    second = _upsert(client, "ava@example.com", lastname="Thompson").json()
    assert first["status"] == "COMPLETE" and first["results"][0]["new"] is True
    assert second["results"][0]["new"] is False and second["results"][0]["id"] == first["results"][0]["id"]
    props = second["results"][0]["properties"]
    assert (props["firstname"], props["lastname"], props["hs_object_id"]) == (
        "Ava",
        "Thompson",
        props["hs_object_id"],
    )


def test_errors_have_hubspots_shape():
    client = TestClient(create_hubspot_app())
    unauthorized = client.post(UPSERT, json={"inputs": []})
    assert unauthorized.status_code == 401 and unauthorized.json()["category"] == "INVALID_AUTHENTICATION"
    assert set(unauthorized.json()) == {"status", "message", "correlationId", "category"}
    bad_id = client.post(UPSERT, json={"inputs": [{"idProperty": "phone", "id": "+1"}]}, headers=AUTH)
    assert bad_id.status_code == 400 and bad_id.json()["category"] == "VALIDATION_ERROR"
    contact = _upsert(client, "a@example.com").json()["results"][0]["id"]
    wrong_type = {
        "to": {"id": contact},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 200}],
    }
    call = client.post(
        "/crm/v3/objects/calls", json={"properties": {}, "associations": [wrong_type]}, headers=AUTH
    )
    assert call.status_code == 400 and "invalid association type" in call.json()["message"]
    assert client.get("/sandbox/objects").json()["calls"] == []


def test_faults_before_do_nothing_and_after_do_the_work():
    client = TestClient(create_hubspot_app())
    client.post("/sandbox/faults", json={"fail": 1, "status": 503, "mode": "before"})
    assert _upsert(client, "a@example.com").status_code == 503
    assert client.get("/sandbox/objects").json()["contacts"] == []
    client.post("/sandbox/faults", json={"skip": 1, "fail": 1, "status": 502, "mode": "after"})
    assert _upsert(client, "a@example.com").status_code == 200
    assert _upsert(client, "b@example.com").status_code == 502
    assert len(client.get("/sandbox/objects").json()["contacts"]) == 2  # b was created all the same
    assert _upsert(client, "c@example.com").status_code == 200
    stats = client.get("/sandbox/stats").json()
    assert (
        stats[f"POST {UPSERT} 503"] == 1
        and stats[f"POST {UPSERT} 502"] == 1
        and stats[f"POST {UPSERT} 200"] == 2
    )
