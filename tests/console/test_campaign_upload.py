"""Uploading a lead CSV from a campaign's page: mapping preview, import, result and its report."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dialer.db import transaction
from dialer.models import ConsentRecord, Lead
from dialer.runtime import Runtime
from tests.console.conftest import csrf
from tests.factories import create_campaign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ATOMIC = FIXTURES / "atomic_crm_test_contacts.csv"
ATTESTATION = "Northwind Analytics, Inc. attests PEWC for AI-voice sales calls (ref CRM-2026-11)"


def _campaign(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as session:
        return create_campaign(session, name="autumn").id


def _upload(client: TestClient, campaign_id: int, name: str, content: bytes) -> str:
    answer = client.post(
        f"/console/campaigns/{campaign_id}/leads/upload",
        files={"file": (name, content, "text/csv")},
        data={"csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _selected(html: str) -> dict[str, str]:
    """``{column index: selected option}`` of the mapping form."""
    picked = {}
    for index, options in re.findall(r'<select name="map_(\d+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        assert chosen, index
        picked[index] = chosen.group(1)
    return picked


def _leads(runtime: Runtime, campaign_id: int) -> list[Lead]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Lead).where(Lead.campaign_id == campaign_id)))


def test_the_atomic_crm_file_is_previewed_mapped_and_imported(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    campaign_id = _campaign(runtime)
    client = logged_in["ops"]
    assert client.get(f"/console/campaigns/{campaign_id}/leads/upload").status_code == 200
    preview_url = _upload(client, campaign_id, "contacts.csv", ATOMIC.read_bytes())
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert "Shelley" in preview.text and "1-955-371-0847 x371" in preview.text  # the first rows, as written
    headers = next(csv.reader(io.StringIO(ATOMIC.read_text())))
    picked = _selected(preview.text)
    guessed = {headers[int(i)]: v for i, v in picked.items()}
    assert guessed["phone_work"] == "phone_work" and guessed["email_home"] == "email"
    assert guessed["company"] == "company" and guessed["gender"] == "fields"  # the importer's own guess

    form = {f"map_{i}": v for i, v in picked.items()}
    form[f"map_{headers.index('sales')}"] = "ignore"
    form[f"map_{headers.index('phone_other')}"] = "ignore"
    form |= {"consent_attestation": ATTESTATION, "region": "US", "csrf_token": csrf(client)}
    done = client.post(preview_url, data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{preview_url}/result"

    leads = _leads(runtime, campaign_id)
    assert leads and all("sales" not in lead.fields and "gender" in lead.fields for lead in leads)
    with runtime.sessions() as session:
        consents = session.scalar(select(func.count()).select_from(ConsentRecord))
    assert consents == len(leads)

    result = client.get(done.headers["location"])
    created = re.search(r'data-testid="leads-created">(\d+)<', result.text)
    rejected = re.search(r'data-testid="rejected-count">(\d+)<', result.text)
    assert created and int(created.group(1)) == len(leads)
    assert rejected and int(rejected.group(1)) > 0
    assert (
        '<td>contacts.csv</td><td class="num">2</td><td>phone_home</td>' in result.text
    )  # file, row, column

    report = client.get(f"{preview_url}/rejected.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert 'filename="contacts.rejected.csv"' in report.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert len(rows) == int(rejected.group(1))
    assert rows[0] == {
        "row": "2",
        "column": "phone_home",
        "value": "1-955-371-0847 x371",
        "reason": "not a valid number (area code 955 is not valid)",
    }

    # A reload or a second click never imports the file twice.
    assert client.get(preview_url, follow_redirects=False).headers["location"].endswith("/result")
    assert client.post(preview_url, data=form, follow_redirects=False).status_code == 303
    assert len(_leads(runtime, campaign_id)) == len(leads)


def test_formula_cells_in_the_report_are_neutralised(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    campaign_id = _campaign(runtime)
    client = logged_in["admin"]
    content = (
        b'first_name,phone\nAva,"=HYPERLINK(""http://evil.example"",""x"")"\nBo,@SUM(A1)\nCy,(312) 555-0101\n'
    )
    url = _upload(client, campaign_id, "tricky.csv", content)
    client.post(url, data={"csrf_token": csrf(client)})
    report = client.get(f"{url}/rejected.csv").content.decode("utf-8-sig")
    values = [row["value"] for row in csv.DictReader(io.StringIO(report))]
    assert values == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)"]


def test_a_file_without_a_phone_column_is_mapped_by_hand(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    campaign_id = _campaign(runtime)
    client = logged_in["ops"]
    url = _upload(client, campaign_id, "no_phone_column.csv", (FIXTURES / "no_phone_column.csv").read_bytes())
    preview = client.get(url)
    assert "no phone column found" in preview.text
    refused = client.post(url, data={"csrf_token": csrf(client)})
    assert refused.status_code == 422
    assert "Nothing was imported: no_phone_column.csv: no phone column found" in refused.text
    assert _leads(runtime, campaign_id) == []

    done = client.post(url, data={"map_3": "phone", "csrf_token": csrf(client)}, follow_redirects=False)
    assert done.status_code == 303
    assert sorted(lead.phone_e164 for lead in _leads(runtime, campaign_id)) == [
        "+13125550101",
        "+15125550102",
    ]


def test_an_unreadable_file_is_refused_naming_it(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    campaign_id = _campaign(runtime)
    client = logged_in["ops"]
    url = _upload(client, campaign_id, "latin1.csv", (FIXTURES / "leads_latin1.csv").read_bytes())
    answer = client.get(url)
    assert answer.status_code == 422 and "latin1.csv" in answer.text and "UTF-8" in answer.text
    assert "dialer-console-uploads" not in answer.text  # never the stored path


def test_an_upload_is_its_uploaders_only(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    campaign_id = _campaign(runtime)
    url = _upload(logged_in["ops"], campaign_id, "contacts.csv", ATOMIC.read_bytes())
    admin = logged_in["admin"]
    assert admin.get(url).status_code == 404
    assert admin.post(url, data={"csrf_token": csrf(admin)}).status_code == 404
    with transaction(runtime.sessions) as session:
        other = create_campaign(session, name="other").id
    assert logged_in["ops"].get(url.replace(f"/{campaign_id}/", f"/{other}/")).status_code == 404
    assert _leads(runtime, campaign_id) == []


def test_uploads_need_the_import_role_and_the_csrf_token(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    campaign_id = _campaign(runtime)
    upload = f"/console/campaigns/{campaign_id}/leads/upload"
    files = {"file": ("contacts.csv", ATOMIC.read_bytes(), "text/csv")}
    for role in ("rep", "compliance"):
        client = logged_in[role]
        assert client.get(upload).status_code == 403, role
        assert client.post(upload, files=files, data={"csrf_token": csrf(client)}).status_code == 403, role
    ops = logged_in["ops"]
    refused = ops.post(upload, files=files)
    assert refused.status_code == 403 and "CSRF" in refused.text
    url = _upload(ops, campaign_id, "contacts.csv", ATOMIC.read_bytes())
    assert ops.post(url, data={}).status_code == 403
    assert _leads(runtime, campaign_id) == []
