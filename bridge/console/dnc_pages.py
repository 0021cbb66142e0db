"""``/console/dnc``: the internal do-not-call list: search, add with a reason, import, export, remove.

Compliance and admin read and add (``dnc:read``, ``dnc:write``); only admin withdraws an entry
(``dnc:remove``: compliance sees no remove button and gets the 403 page if it posts). Every change
goes through the service the REST API and the CLI use (:func:`dialer.consent.add_internal_dnc`,
:func:`~dialer.consent.import_internal_list`, :func:`~dialer.consent.remove_internal_dnc`), so it
is honoured in every campaign at once and audited with the user as actor.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import GRANTS, Permission, Principal, allow
from bridge.api.audit import MEDIA
from bridge.api.leads import upload_name
from bridge.api.params import phone_e164, text_value
from bridge.api.schemas import MAX_ID
from bridge.console.dnc_export import export_lines
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from dialer.consent import add_internal_dnc, import_internal_list, internal_dnc_entries, remove_internal_dnc
from dialer.errors import (
    DialerError,
    InvalidInputError,
    InvalidStateError,
    RegistryFileError,
    message_of,
    status_of,
)
from dialer.listings import MAX_PAGE, list_internal_dnc
from dialer.models import DncEntry

router = APIRouter()
DNC = f"{CONSOLE}/dnc"
PAGE_SIZE = 100
Reader = Annotated[Principal, Depends(allow(Permission.DNC_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.DNC_WRITE))]
EntryId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class Listing:
    """What the page lists: one number's entries (a search) or a page of the list by id."""

    entries: list[DncEntry]
    phone_e164: str | None = None
    next_after: int | None = None


async def _listing(request: Request, phone: str | None, after_id: int | None) -> Listing:
    e164 = phone_e164(phone, "phone") if phone else None

    def work(session: Session, now: datetime) -> Listing:
        if e164 is not None:
            return Listing(internal_dnc_entries(session, phone_e164=e164), phone_e164=e164)
        entries = list_internal_dnc(session, after_id=after_id, limit=PAGE_SIZE)
        return Listing(entries, next_after=entries[-1].id if len(entries) == PAGE_SIZE else None)

    return await in_transaction(request, work)


async def _page(
    request: Request,
    principal: Principal,
    *,
    phone: str | None = None,
    after_id: int | None = None,
    notice: str | None = None,
    error: DialerError | None = None,
) -> HTMLResponse:
    """The DNC page: the listing, the forms, ``notice`` (what was done) or ``error`` (what failed)."""
    status = 200 if error is None else status_of(error)
    try:
        listing = await _listing(request, phone, after_id)
    except InvalidInputError as exc:
        listing, error, status = Listing([]), error or exc, 422
    context = {
        "listing": listing,
        "phone": phone or "",
        "notice": notice,
        "error": None if error is None else message_of(error),
        "can_remove": principal.role in GRANTS[Permission.DNC_REMOVE],
    }
    return render(request, "dnc/list.html", principal, context, status_code=status)


def _save_upload(file: UploadFile, path: FilePath) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(file.file, out)


@router.get(DNC)
async def dnc_list(
    request: Request,
    principal: Reader,
    phone: str | None = None,
    after_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    added: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Search the list by number (any common format, normalised to E.164) or page through it by id.

    ``added``: the entry just added (the add form comes back here), named in a notice.
    """
    notice = None if added is None else f"Entry {added} added: every campaign stops calling the number"
    return await _page(request, principal, phone=phone, after_id=after_id, notice=notice)


@router.post(DNC)
async def dnc_add(
    request: Request,
    principal: Writer,
    phone: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Put a number on the list (audited ``dnc.added`` with the user): every campaign stops calling it."""
    try:
        e164, why = phone_e164(phone, "phone"), text_value(reason, "reason")
    except InvalidInputError as exc:
        return await _page(request, principal, error=exc)

    def work(session: Session, now: datetime) -> DncEntry:
        return add_internal_dnc(
            session, phone_e164=e164, source="console", now=now, actor=principal.actor, reason=why
        )

    entry = await in_transaction(request, work)
    return RedirectResponse(
        f"{DNC}?phone={entry.phone_e164.replace('+', '%2B')}&added={entry.id}", status_code=303
    )


@router.post(f"{DNC}/import")
async def dnc_import(
    request: Request,
    principal: Writer,
    file: Annotated[UploadFile, File(description="One number a line, a header, # comments.")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    """Add every number of an uploaded file, all or nothing (as ``dialer dnc import --list internal``)."""
    name = upload_name(file.filename)
    try:
        why = text_value(reason, "reason")
    except InvalidInputError as exc:
        return await _page(request, principal, error=exc)
    folder = FilePath(await asyncio.to_thread(tempfile.mkdtemp, prefix="dialer-dnc-upload-"))
    path = folder / name
    try:
        await asyncio.to_thread(_save_upload, file, path)  # off the loop that carries the calls' audio

        def work(session: Session, now: datetime) -> int:
            added = import_internal_list(session, path, now=now, actor=principal.actor, reason=why)
            return len(added)

        try:
            count = await in_transaction(request, work)
        except RegistryFileError as exc:
            message = message_of(exc).replace(str(path), name)
            renamed = RegistryFileError(message, path=name, line=exc.line, column=exc.column)
            return await _page(request, principal, error=renamed)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return await _page(
        request, principal, notice=f"{count} numbers from {name} added to the internal DNC list"
    )


@router.post(f"{DNC}/{{entry_id}}/remove")
async def dnc_remove(
    request: Request,
    entry_id: EntryId,
    principal: Annotated[Principal, Depends(allow(Permission.DNC_REMOVE))],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Withdraw an entry made in error (admin; audited ``dnc.removed``); the row is kept."""
    try:
        why = text_value(reason, "reason")
    except InvalidInputError as exc:
        return await _page(request, principal, error=exc)

    def work(session: Session, now: datetime) -> DncEntry:
        return remove_internal_dnc(session, entry_id=entry_id, now=now, actor=principal.actor, reason=why)

    try:
        entry = await in_transaction(request, work)
    except (InvalidInputError, InvalidStateError) as exc:
        return await _page(request, principal, error=exc)
    return await _page(
        request,
        principal,
        phone=entry.phone_e164,
        notice=f"DNC entry {entry.id} for {entry.phone_e164} removed",
    )


@router.get(f"{DNC}/export")
async def dnc_export(
    request: Request, principal: Reader, format: Literal["csv", "jsonl"] = "csv"
) -> Response:  # noqa: A002
    """The whole internal list (withdrawn entries too) as a CSV or JSON-lines download."""

    def work(session: Session, now: datetime) -> str:
        entries: list[DncEntry] = []
        while page := list_internal_dnc(
            session, after_id=entries[-1].id if entries else None, limit=MAX_PAGE
        ):
            entries.extend(page)
        return "".join(export_lines(entries, format))

    body = await in_transaction(request, work)
    headers = {"Content-Disposition": f'attachment; filename="dnc-internal.{format}"'}
    return Response(body, media_type=MEDIA[format], headers=headers)
