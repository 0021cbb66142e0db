"""``POST /api/campaigns/{id}/leads``: a lead CSV upload, imported as ``dialer leads import`` does.

The upload is written to a private temporary folder under its own base name and handed to
:func:`dialer.leads.service.import_leads`, so validation is the CLI's, row for row; errors name
the uploaded file (``leads.csv, row 3, column 'phone': ...``), never the temporary path. All
accepted rows commit together or nothing does; rejected rows come back in the answer (the
first 10,000; ``rejected_count`` counts all).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow, runtime_of
from bridge.api.schemas import LeadImportPublic, RejectedRowPublic, RowId, storable
from dialer.campaigns import campaign_by_id
from dialer.errors import ImportFileError, InvalidInputError
from dialer.leads.mappings import parse_mappings
from dialer.leads.schemas import ImportResult
from dialer.leads.service import import_leads
from dialer.registry import registry_store
from dialer.settings import Settings

router = APIRouter(prefix="/api/campaigns", tags=["leads"])
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def upload_name(raw: str | None) -> str:
    """The base name an uploaded file is known by in messages (``upload.csv`` when it has none)."""
    base = _UNSAFE.sub("_", Path((raw or "").replace("\\", "/")).name).strip(" .")
    return base[:120] or "upload.csv"


def _form_text(value: str | None, where: str) -> str | None:
    try:
        return None if value is None else storable(value, where)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def save_upload(file: UploadFile, path: Path) -> None:
    """Copy the uploaded file to ``path`` (blocking disk I/O: run in a thread)."""
    with path.open("wb") as out:
        shutil.copyfileobj(file.file, out)


def renamed_upload_error(exc: ImportFileError, path: Path, name: str) -> ImportFileError:
    """The same error, naming the uploaded file instead of its temporary copy."""
    return ImportFileError(exc.reason.replace(str(path), name), path=name, row=exc.row, column=exc.column)


def _mappings(values: list[str]) -> dict[str, str]:
    """The ``map`` form fields as ``{column: field}``; a malformed one is a 422 at ``body.map.<i>``."""
    mappings: dict[str, str] = {}
    for index, value in enumerate(values):
        try:
            mappings.update(parse_mappings([_form_text(value, "map") or ""], option="map"))
        except InvalidInputError as exc:
            raise RequestValidationError(
                [{"loc": ("body", "map", index), "msg": exc.message, "type": "value_error"}]
            ) from None
    return mappings


def import_upload(
    session: Session,
    *,
    campaign_id: int,
    path: Path,
    mappings: dict[str, str],
    attestation: str | None,
    attested_by: str,
    region: str,
    now: datetime,
    settings: Settings,
    allow_vanity: bool = False,
) -> ImportResult:
    """Import the uploaded file at ``path`` into campaign ``campaign_id`` (the API's and the console's way).

    Raises:
        NotFoundError: no such campaign.
        ImportFileError: the file cannot be imported (naming ``path``: see :func:`renamed_upload_error`).
    """
    campaign = campaign_by_id(session, campaign_id=campaign_id)
    return import_leads(
        session,
        campaign_name=campaign.name,
        path=path,
        mappings=mappings,
        attestation=attestation,
        attested_by=attested_by,
        default_region=region,
        now=now,
        registry=registry_store(settings),
        allow_vanity=allow_vanity,
    )


@router.post(
    "/{campaign_id}/leads",
    response_model=LeadImportPublic,
    status_code=201,
    responses={
        401: {},
        403: {},
        404: {},
        422: {"description": "the file cannot be imported, or a map is malformed (nothing written)"},
    },
)
async def import_lead_file(
    campaign_id: RowId,
    request: Request,
    principal: Annotated[Principal, Depends(allow(Permission.LEADS_IMPORT))],
    file: Annotated[UploadFile, File(description="Lead CSV (UTF-8).")],
    map_: Annotated[list[str], Form(alias="map", description="COLUMN=FIELD overrides; repeatable.")] = [],  # noqa: B006
    consent_attestation: Annotated[str | None, Form(max_length=2000)] = None,
    region: Annotated[str, Form(min_length=2, max_length=2)] = "US",
    allow_vanity: Annotated[bool, Form()] = False,
) -> LeadImportPublic:
    """Import a lead CSV into the campaign: detect columns, E.164 numbers, fold duplicates, consent."""
    name = upload_name(file.filename)
    mappings = _mappings(map_)
    attestation = _form_text(consent_attestation, "consent_attestation")
    region_code = _form_text(region, "region")
    assert region_code is not None  # the form field is required (2 letters)
    runtime = runtime_of(request)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dialer-upload-"))
    path = folder / name
    try:
        # Off the event loop: it also carries the live calls' media streams.
        await asyncio.to_thread(save_upload, file, path)

        def work(session: Session, now: datetime) -> LeadImportPublic:
            result = import_upload(
                session,
                campaign_id=campaign_id,
                path=path,
                mappings=mappings,
                attestation=attestation,
                attested_by=principal.username,
                region=region_code,
                now=now,
                settings=runtime.settings,
                allow_vanity=allow_vanity,
            )
            return LeadImportPublic(
                campaign_id=result.campaign_id,
                leads_created=result.leads_created,
                consents_created=result.consents_created,
                rejected_count=result.rejected_count,
                folded_count=result.folded_count,
                warnings_count=result.warnings_count,
                mapping=result.mapping,
                rejected=[RejectedRowPublic.model_validate(row) for row in result.rejected],
                file_sha256=result.file_sha256,
            )

        try:
            return await in_transaction(request, work)
        except ImportFileError as exc:
            raise renamed_upload_error(exc, path, name) from None
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
