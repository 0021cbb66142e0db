"""Importing a lead file into a campaign: parse, fold, insert, audit, report.

Everything is written in the caller's transaction and nothing is committed here: all accepted
rows commit together or none do (DESIGN rule 7). The file is parsed completely before the first
write, so a file that cannot be imported raises :class:`~dialer.errors.ImportFileError` with
nothing written. The campaign row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write lock
does the same) so two imports into one campaign fold against each other instead of colliding on
the (campaign, number) unique key.

Audit: one ``leads.imported`` event (counts, file name, sha256 of the bytes, mapping,
attestation) and one ``consent.recorded`` per consent record, all with actor
``user:<attested_by>`` (the person running the import).

Choices where the brief is silent:

- A number already in the campaign folds the row (``already in campaign as lead <id>``); the
  existing lead is left untouched (no field or consent is merged into it). The same number in
  another campaign is a separate lead.
- Warnings are reported only for rows that become leads (a folded row adds nothing, warnings
  included).
- A PEWC consent column naming a seller other than the campaign's (compared with
  :func:`compliance.consent.same_seller`, as the gate does), or no seller, is imported with a
  warning: the gate will not count it for this campaign. A seller named in ``consent_sellers``
  (the same agreement naming further sellers) counts like ``consent_seller``.
- Every consent record's ``source`` is ``import:<file name> row <n>`` (attestation records too).
- ``attested_by`` is required (1-200 characters) even without an attestation: it is the audit
  actor. An attestation that is given but blank, or longer than 2000 characters, refuses the
  import before anything is read or written.
- The rejected-rows report is written after the campaign is found and before the rows are
  inserted; a failure to write it is recorded in the result and the audit event, never raised.
  An older report is replaced; when there are no rejections no report is written and an older
  one is left alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.consent import same_seller
from dialer.audit import record_event
from dialer.db import lock_for_update
from dialer.errors import ImportFileError, NotFoundError
from dialer.leads.parser import parse_leads
from dialer.leads.report import rejected_report_path, write_rejected_report
from dialer.leads.schemas import ConsentDraft, FoldedRow, ImportResult, LeadDraft, ParsedFile, RowWarning
from dialer.models import Campaign, ConsentMethod, ConsentRecord, ConsentType, Lead, LeadStatus
from dialer.registry import RegistryStore

ATTESTATION_LIMIT = 2000
ATTESTED_BY_LIMIT = 200
_IN_CHUNK = 500


def _check_attestation(attestation: str | None, attested_by: str, path: str) -> str | None:
    if not attested_by.strip() or len(attested_by.strip()) > ATTESTED_BY_LIMIT:
        raise ImportFileError(
            f"attested_by must name the person importing (1 to {ATTESTED_BY_LIMIT} characters)", path=path
        )
    if attestation is None:
        return None
    text = attestation.strip()
    if not text:
        raise ImportFileError("the attestation is empty; say where and how consent was captured", path=path)
    if len(text) > ATTESTATION_LIMIT:
        raise ImportFileError(
            f"the attestation is {len(text)} characters; the limit is {ATTESTATION_LIMIT}", path=path
        )
    return text


def attestation_consent(draft: LeadDraft, *, text: str, seller_name: str, attested_by: str) -> ConsentDraft:
    """The PEWC consent an attestation stands for, for one lead (pure).

    The attestation says consent was captured elsewhere for the campaign's seller, covering
    AI-voice calls to the lead's number; its text is the evidence. ``signed_at`` is unknown.
    """
    return ConsentDraft(
        consent_type=ConsentType.PEWC,
        method=ConsentMethod.ATTESTATION,
        phone_e164=draft.phone_e164,
        seller_name=seller_name,
        covers_artificial_voice=True,
        signed_at=None,
        evidence=text,
        attested_by=attested_by,
    )


def _existing(session: Session, campaign_id: int, numbers: Sequence[str]) -> dict[str, int]:
    """``{e164: lead id}`` for the numbers already in the campaign."""
    found: dict[str, int] = {}
    for i in range(0, len(numbers), _IN_CHUNK):
        chunk = numbers[i : i + _IN_CHUNK]
        rows = session.execute(
            select(Lead.phone_e164, Lead.id).where(
                Lead.campaign_id == campaign_id, Lead.phone_e164.in_(chunk)
            )
        ).all()
        found.update({phone: lead_id for phone, lead_id in rows})
    return found


def read_file(path: Path) -> bytes:
    """The bytes of the file at ``path``; :class:`ImportFileError` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None


def parse_lead_file(
    path: Path, *, mappings: Mapping[str, str] | None = None, default_region: str = "US"
) -> ParsedFile:
    """Read and parse a lead file without touching the database (for a dry run or a preview).

    Raises:
        ImportFileError: the file cannot be read or imported.
    """
    path = Path(path)
    return parse_leads(read_file(path), path=str(path), mappings=mappings, default_region=default_region)


def import_leads(
    session: Session,
    *,
    campaign_name: str,
    path: Path,
    mappings: Mapping[str, str] | None = None,
    attestation: str | None = None,
    attested_by: str,
    default_region: str = "US",
    now: datetime,
    registry: RegistryStore | None = None,
) -> ImportResult:
    """Import the lead file at ``path`` into the campaign called ``campaign_name``.

    Args:
        session: an open session; the caller commits (all accepted rows together) or rolls back.
        campaign_name: the target campaign.
        path: the CSV file.
        mappings: ``--map`` overrides, ``{header as written: canonical field or "ignore"}``.
        attestation: a statement that consent was captured elsewhere (at most 2000 characters);
            every accepted lead then also gets a PEWC consent record with this text as evidence.
        attested_by: who runs the import (OS user); the audit actor and the attesting person.
        default_region: region assumed for numbers written without a country code.
        now: the product's clock (aware), for the audit events.
        registry: the DNC registry files; when given, the new leads are scrubbed against the
            national and state lists and the counts (:class:`dialer.registry.ScrubCounts`) are
            stored as ``registry_scrub`` in the ``leads.imported`` event. Listed leads are still
            imported: PEWC can exempt them, and the gate decides at dial time.

    Returns:
        What was imported, rejected, folded and warned about.

    Raises:
        ImportFileError: the file cannot be imported at all (nothing written).
        NotFoundError: no campaign has that name (nothing written).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    text = _check_attestation(attestation, attested_by, str(path))
    attested_by = attested_by.strip()
    parsed = parse_lead_file(path, mappings=mappings, default_region=default_region)

    campaign = session.execute(
        lock_for_update(select(Campaign).where(Campaign.name == campaign_name), session)
    ).scalar_one_or_none()
    if campaign is None:
        raise NotFoundError(
            f"campaign {campaign_name!r} does not exist; create it first with `dialer campaigns create`"
        )

    existing = _existing(session, campaign.id, [d.phone_e164 for d in parsed.leads])
    drafts = [d for d in parsed.leads if d.phone_e164 not in existing]
    folded = list(parsed.folded) + [
        FoldedRow(d.row, None, d.phone_e164, f"already in campaign as lead {existing[d.phone_e164]}")
        for d in parsed.leads
        if d.phone_e164 in existing
    ]
    folded.sort(key=lambda f: f.row)
    kept_rows = {d.row for d in drafts}
    warnings = [w for w in parsed.warnings if w.row in kept_rows]
    drafts, seller_warnings = _check_sellers(parsed, drafts, campaign.seller_name)
    warnings = sorted([*warnings, *seller_warnings], key=lambda w: w.row)
    if text is not None:
        drafts = [
            dataclasses.replace(
                d,
                consents=(
                    *d.consents,
                    attestation_consent(
                        d, text=text, seller_name=campaign.seller_name, attested_by=attested_by
                    ),
                ),
            )
            for d in drafts
        ]

    report_path, report_error = _write_report(parsed, path)
    leads = _insert_leads(session, campaign_id=campaign.id, drafts=drafts, source_file=path.name)
    scrub = registry.scrub_counts([lead.phone_e164 for lead in leads]) if registry is not None else None
    actor = f"user:{attested_by}"
    record_event(
        session,
        kind="leads.imported",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={
            "file": path.name,
            "sha256": parsed.sha256,
            "data_rows": parsed.data_rows,
            "accepted": len(leads),
            "rejected": len(parsed.rejected),
            "folded": len(folded),
            "folded_existing": len(folded) - len(parsed.folded),
            "warnings": len(warnings),
            "blank_rows": len(parsed.blank_rows),
            "consents": sum(len(d.consents) for d in drafts),
            "mapping": parsed.mapping.as_dict(),
            "mapping_notes": list(parsed.mapping.notes),
            "default_region": default_region,
            "attestation": text,
            "rejected_report": str(report_path) if report_path else None,
            "report_error": report_error,
            "registry_scrub": scrub.as_dict() if scrub is not None else None,
        },
    )
    consents = _insert_consents(session, leads=leads, drafts=drafts, now=now, actor=actor)
    return ImportResult(
        campaign_id=campaign.id,
        accepted=len(leads),
        rejected=list(parsed.rejected),
        folded=folded,
        warnings=warnings,
        mapping=parsed.mapping.as_dict(),
        rejected_report_path=report_path,
        leads_created=len(leads),
        consents_created=consents,
        data_rows=parsed.data_rows,
        blank_rows=parsed.blank_rows,
        file_sha256=parsed.sha256,
        report_error=report_error,
        notes=parsed.mapping.notes,
        registry_scrub=scrub,
    )


def _check_sellers(
    parsed: ParsedFile, drafts: list[LeadDraft], seller_name: str
) -> tuple[list[LeadDraft], list[RowWarning]]:
    """Warn about PEWC rows naming another seller (or none): the gate will not count them (CP-2)."""
    column = parsed.mapping.column_for("consent_seller")
    header = column.header if column is not None else None
    checked: list[LeadDraft] = []
    warnings: list[RowWarning] = []
    for draft in drafts:
        found = [
            RowWarning(
                draft.row,
                header,
                c.seller_name or "",
                f"the consent names {', '.join(repr(n) for n in (c.seller_name, *c.other_sellers) if n)}, "
                f"not the campaign's seller {seller_name!r}: the gate will not count it as consent for "
                "this campaign"
                if c.seller_name or c.other_sellers
                else "the consent names no seller: the gate will not count it as consent for this campaign",
            )
            for c in draft.consents
            if c.consent_type is ConsentType.PEWC
            and not any(same_seller(s, seller_name) for s in (c.seller_name, *c.other_sellers) if s)
        ]
        if found:
            stored = [*draft.fields.get("import_warnings", []), *(_as_json(w) for w in found)]
            draft = dataclasses.replace(draft, fields={**draft.fields, "import_warnings": stored})
        warnings.extend(found)
        checked.append(draft)
    return checked, warnings


def _as_json(warning: RowWarning) -> dict[str, str | None]:
    return {"column": warning.column, "value": warning.value, "reason": warning.reason}


def _write_report(parsed: ParsedFile, path: Path) -> tuple[Path | None, str | None]:
    """Write the rejected-rows report; a failure is reported, never raised (the import goes on)."""
    if not parsed.rejected:
        return None, None
    destination = rejected_report_path(path)
    try:
        return write_rejected_report(parsed.rejected, destination), None
    except OSError as exc:
        return None, f"could not write {destination}: {exc.strerror or exc}"


def _insert_leads(
    session: Session, *, campaign_id: int, drafts: Sequence[LeadDraft], source_file: str
) -> list[Lead]:
    leads = [
        Lead(
            campaign_id=campaign_id,
            phone_e164=d.phone_e164,
            phone_extension=d.phone_extension,
            phone_raw=d.phone_raw,
            first_name=d.first_name,
            last_name=d.last_name,
            email=d.email,
            company=d.company,
            title=d.title,
            state=d.state,
            zip=d.zip,
            fields=dict(d.fields),
            status=LeadStatus.PENDING,
            source_file=source_file[:500],
            source_row=d.row,
        )
        for d in drafts
    ]
    session.add_all(leads)
    session.flush()
    return leads


def _insert_consents(
    session: Session, *, leads: Sequence[Lead], drafts: Sequence[LeadDraft], now: datetime, actor: str
) -> int:
    pairs = [(lead, c) for lead, d in zip(leads, drafts, strict=True) for c in d.consents]
    records = [
        ConsentRecord(
            lead_id=lead.id,
            phone_e164=c.phone_e164,
            seller_name=c.seller_name,
            consent_type=c.consent_type,
            covers_artificial_voice=c.covers_artificial_voice,
            signed_at=c.signed_at,
            revoked_at=c.revoked_at,
            method=c.method,
            evidence=c.evidence,
            attested_by=c.attested_by,
            other_sellers=list(c.other_sellers),
            source=f"import:{lead.source_file} row {lead.source_row}"[:300],
            evidence_text=c.evidence_text,
            evidence_url=c.evidence_url,
            evidence_ip=c.evidence_ip,
            evidence_form_sha256=c.evidence_form_sha256,
        )
        for lead, c in pairs
    ]
    session.add_all(records)
    session.flush()
    for record, (lead, _) in zip(records, pairs, strict=True):
        record_event(
            session,
            kind="consent.recorded",
            occurred_at=now,
            actor=actor,
            campaign_id=lead.campaign_id,
            lead_id=lead.id,
            payload={
                "consent_record_id": record.id,
                "lead_id": lead.id,
                "phone_e164": record.phone_e164,
                "consent_type": record.consent_type,
                "method": record.method,
                "seller_name": record.seller_name,
                "covers_artificial_voice": record.covers_artificial_voice,
                "signed_at": record.signed_at,
                "revoked_at": record.revoked_at,
                "evidence": record.evidence,
                "other_sellers": record.other_sellers,
                "source": record.source,
                "evidence_text": record.evidence_text,
                "evidence_url": record.evidence_url,
                "evidence_ip": record.evidence_ip,
                "evidence_form_sha256": record.evidence_form_sha256,
                "attested_by": record.attested_by,
                "source_row": lead.source_row,
            },
        )
    return len(records)
