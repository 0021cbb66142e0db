"""Uploading a lead CSV to a campaign: the file, a mapping preview of its first rows, the import.

1. ``GET|POST .../leads/upload``: the file is stored (:mod:`bridge.console.campaign_upload_store`);
2. ``GET .../leads/uploads/{token}``: its first rows in a table, a select per column prefilled
   with the importer's own guess (:func:`dialer.leads.preview.preview_lead_file`), the consent
   attestation and the default region;
3. ``POST`` there: the choices that differ from the guess become ``--map`` overrides and the file
   is imported exactly as the REST API imports it (:func:`bridge.api.leads.import_upload`); a file
   the importer refuses shows the mapping again with its file / row / column message (422);
4. ``GET .../leads/uploads/{token}/result``: the counts, the rejected rows, and
   ``.../rejected.csv``, the importer's own report (formula cells neutralised by
   :mod:`dialer.csv_cells`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow, runtime_of
from bridge.api.leads import import_upload, renamed_upload_error, save_upload, upload_name
from bridge.api.schemas import RowId, storable
from bridge.console.campaign_pages import CAMPAIGNS
from bridge.console.campaign_upload_store import StoredUpload, new_upload, open_upload
from bridge.console.templating import render
from dialer import campaigns as service
from dialer.errors import ImportFileError, InvalidInputError, NotFoundError
from dialer.leads import CANONICAL_FIELDS, IGNORE, normalize_header
from dialer.leads.preview import FilePreview, preview_lead_file
from dialer.leads.report import format_registry_scrub
from dialer.leads.schemas import ImportResult
from dialer.models import Campaign

router = APIRouter()
Importer = Annotated[Principal, Depends(allow(Permission.LEADS_IMPORT))]
KEEP = "fields"
"""The select's value for "keep the column on the lead under its own name" (a script field)."""
REJECTED_SHOWN = 200
"""Rejected rows listed on the result page (the downloadable report has every one)."""


async def _campaign(request: Request, campaign_id: int) -> Campaign:
    def work(session: Session, now: datetime) -> Campaign:
        return service.campaign_by_id(session, campaign_id=campaign_id)

    return await in_transaction(request, work)


def column_choices(preview: FilePreview) -> list[dict[str, Any]]:
    """One entry per column: header, normalised key, the guessed target and the options offered.

    A column the importer maps to a field can be mapped to another field or ignored; one it keeps
    under its own name can also stay so (the importer's ``--map`` has no "keep" override).
    """
    columns = preview.mapping.columns if preview.mapping else None
    choices = []
    for index, header in enumerate(preview.headers):
        column = columns[index] if columns else None
        guessed = IGNORE if column and column.ignored else (column.field if column and column.field else KEEP)
        key = column.key if column else normalize_header(header)
        keep = [(KEEP, f"keep as {{{key}}}")] if guessed == KEEP else []
        options = keep + [(field, field) for field in CANONICAL_FIELDS]
        choices.append(
            {"index": index, "header": header, "guessed": guessed, "options": [*options, (IGNORE, "ignore")]}
        )
    return choices


def overrides(choices: list[dict[str, Any]], form: dict[str, str]) -> dict[str, str]:
    """The ``--map`` overrides of a submitted mapping form: ``{header: field or "ignore"}``.

    Raises:
        InvalidInputError: a choice that is not one of the column's options.
    """
    mappings = {}
    for choice in choices:
        picked = form.get(f"map_{choice['index']}", choice["guessed"])
        if picked not in {value for value, _label in choice["options"]}:
            raise InvalidInputError(f"column {choice['header']!r}: {picked!r} is not a lead field")
        if picked != choice["guessed"] and picked != KEEP:
            mappings[choice["header"]] = picked
    return mappings


def _result_view(result: ImportResult, upload: StoredUpload) -> dict[str, Any]:
    return {
        "file": upload.name,
        "leads_created": result.leads_created,
        "consents_created": result.consents_created,
        "rejected_count": result.rejected_count,
        "folded_count": result.folded_count,
        "warnings_count": result.warnings_count,
        "data_rows": result.data_rows,
        "mapping": result.mapping,
        "notes": list(result.notes),
        "rejected": [
            {"row": r.row, "column": r.column, "value": r.value, "reason": r.reason}
            for r in result.rejected[:REJECTED_SHOWN]
        ],
        "report_error": result.report_error,
        "scrub": format_registry_scrub(result.registry_scrub) if result.registry_scrub else None,
    }


def _base(campaign_id: int) -> str:
    return f"{CAMPAIGNS}/{campaign_id}/leads"


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/leads/upload")
async def upload_form(campaign_id: RowId, request: Request, principal: Importer) -> HTMLResponse:
    """Choose the CSV file."""
    campaign = await _campaign(request, campaign_id)
    return render(request, "campaigns/upload.html", principal, {"campaign": campaign, "error": None})


@router.post(f"{CAMPAIGNS}/{{campaign_id}}/leads/upload")
async def upload_file(
    campaign_id: RowId, request: Request, principal: Importer, file: Annotated[UploadFile, File()]
) -> Response:
    """Store the file and open its mapping preview."""
    await _campaign(request, campaign_id)
    upload = await asyncio.to_thread(
        new_upload, campaign_id=campaign_id, name=upload_name(file.filename), uploaded_by=principal.username
    )
    # Off the event loop: it also carries the live calls' media streams.
    await asyncio.to_thread(save_upload, file, upload.path)
    return RedirectResponse(f"{_base(campaign_id)}/uploads/{upload.token}", status_code=303)


async def _preview_page(
    request: Request, principal: Principal, campaign_id: int, token: str, **extra: Any
) -> HTMLResponse:
    campaign = await _campaign(request, campaign_id)
    upload = open_upload(token, campaign_id=campaign_id, username=principal.username)
    try:
        preview = await asyncio.to_thread(preview_lead_file, upload.path, name=upload.name)
    except ImportFileError as exc:
        context = {"campaign": campaign, "error": renamed_upload_error(exc, upload.path, upload.name).message}
        return render(request, "campaigns/upload.html", principal, context, status_code=422)
    context = {
        "campaign": campaign,
        "upload": upload,
        "preview": preview,
        "choices": column_choices(preview),
        "form": {},
        "error": None,
    } | extra
    return render(request, "campaigns/mapping.html", principal, context, status_code=422 if extra else 200)


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/leads/uploads/{{token}}")
async def mapping_preview(campaign_id: RowId, token: str, request: Request, principal: Importer) -> Response:
    """The first rows with a select per column (the importer's guess chosen)."""
    upload = open_upload(token, campaign_id=campaign_id, username=principal.username)
    if upload.result() is not None:
        return RedirectResponse(f"{_base(campaign_id)}/uploads/{token}/result", status_code=303)
    return await _preview_page(request, principal, campaign_id, token)


def _form_text(form: dict[str, str], field: str) -> str | None:
    value = form.get(field, "").strip()
    try:
        return storable(value, field) if value else None
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


@router.post(f"{CAMPAIGNS}/{{campaign_id}}/leads/uploads/{{token}}")
async def import_mapped(campaign_id: RowId, token: str, request: Request, principal: Importer) -> Response:
    """Import the file with the chosen mapping; the result page, or the mapping again with the error."""
    upload = open_upload(token, campaign_id=campaign_id, username=principal.username)
    result_url = f"{_base(campaign_id)}/uploads/{token}/result"
    if upload.result() is not None:  # imported already (a second click, a reload): never twice
        return RedirectResponse(result_url, status_code=303)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    preview = await asyncio.to_thread(preview_lead_file, upload.path, name=upload.name)
    settings = runtime_of(request).settings
    try:
        mappings = overrides(column_choices(preview), form)
        attestation = _form_text(form, "consent_attestation")
        region = (_form_text(form, "region") or "US").upper()

        def work(session: Session, now: datetime) -> dict[str, Any]:
            result = import_upload(
                session,
                campaign_id=campaign_id,
                path=upload.path,
                mappings=mappings,
                attestation=attestation,
                attested_by=principal.username,
                region=region,
                now=now,
                settings=settings,
            )
            return _result_view(result, upload)

        view = await in_transaction(request, work)
    except ImportFileError as exc:
        message = renamed_upload_error(exc, upload.path, upload.name).message
        return await _preview_page(request, principal, campaign_id, token, error=message, form=form)
    except InvalidInputError as exc:
        return await _preview_page(request, principal, campaign_id, token, error=exc.message, form=form)
    await asyncio.to_thread(upload.save_result, view)
    return RedirectResponse(result_url, status_code=303)


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/leads/uploads/{{token}}/result")
async def import_result(
    campaign_id: RowId, token: str, request: Request, principal: Importer
) -> HTMLResponse:
    """What the import did: counts, mapping, rejected rows, the report's link."""
    campaign = await _campaign(request, campaign_id)
    upload = open_upload(token, campaign_id=campaign_id, username=principal.username)
    result = upload.result()
    if result is None:
        raise NotFoundError(f"lead upload {token!r} has not been imported yet")
    context = {
        "campaign": campaign,
        "upload": upload,
        "result": result,
        "has_report": upload.report_path.is_file(),
    }
    return render(request, "campaigns/import_result.html", principal, context)


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/leads/uploads/{{token}}/rejected.csv")
async def rejected_report(
    campaign_id: RowId, token: str, request: Request, principal: Importer
) -> FileResponse:
    """The importer's rejected-rows report (``row, column, value, reason``), as a download."""
    upload = open_upload(token, campaign_id=campaign_id, username=principal.username)
    if not upload.report_path.is_file():
        raise NotFoundError(f"the import of {upload.name} rejected no rows: there is no report")
    return FileResponse(
        upload.report_path, media_type="text/csv; charset=utf-8", filename=upload.report_path.name
    )
