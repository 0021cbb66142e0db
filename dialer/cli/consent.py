"""``dialer consent``: the consent ledger of a number (show, revoke) and its file imports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from dialer.cli._common import actor, console, runtime
from dialer.consent import EBR_KINDS, consent_ledger, import_ebr_csv, import_revocations_csv, revoke_consent
from dialer.consent.ledger import ConsentLedger
from dialer.db import transaction
from dialer.models import ConsentRecord

app = typer.Typer(no_args_is_help=True, help="Consent ledger: records, revocations, DNC requests, EBRs.")


def _at(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _evidence_lines(record: ConsentRecord) -> list[str]:
    """The evidence a consent record carries, one ``label: value`` line per field that is set."""
    return [
        f"{label}: {value}"
        for label, value in (
            ("evidence", record.evidence),
            ("text", record.evidence_text),
            ("url", record.evidence_url),
            ("ip", record.evidence_ip),
            ("form sha256", record.evidence_form_sha256),
            ("attested by", record.attested_by),
        )
        if value
    ]


def _print_consents(ledger: ConsentLedger) -> None:
    """Print the ledger's consent records as a table, then each record's evidence lines below it."""
    records = Table(
        "id",
        "lead",
        "type",
        "method",
        "sellers",
        "AI voice",
        "signed at",
        "revoked at",
        "source",
        title="consent records",
    )
    evidence: list[tuple[int, list[str]]] = []
    for r in ledger.consents:
        records.add_row(
            str(r.id),
            str(r.lead_id),
            str(r.consent_type),
            str(r.method),
            "; ".join(s for s in (r.seller_name, *r.other_sellers) if s),
            "yes" if r.covers_artificial_voice else "no",
            _at(r.signed_at),
            _at(ledger.revoked_at(r)),
            r.source,
        )
        evidence.append((r.id, _evidence_lines(r)))
    console.print(records)
    for record_id, lines in evidence:
        if lines:
            console.print(f"record {record_id}:", soft_wrap=True)
            for line in lines:
                console.print(f"  {line}", soft_wrap=True)


def _print_revocations(ledger: ConsentLedger) -> None:
    """Print the ledger's consent revocations as a table (``all``: every consent of the number)."""
    revocations = Table("id", "revoked at", "channel", "source", "record", "DNC entry", title="revocations")
    for v in ledger.revocations:
        revocations.add_row(
            str(v.id),
            _at(v.revoked_at),
            v.channel,
            v.source,
            _text(v.consent_record_id) or "all",
            _text(v.dnc_entry_id),
        )
    console.print(revocations)


def _print_dnc_requests(ledger: ConsentLedger) -> None:
    """Print the number's internal DNC requests as a table."""
    dnc = Table("id", "requested at", "source", "reason", "attempt", title="internal DNC requests")
    for e in ledger.dnc_requests:
        dnc.add_row(str(e.id), _at(e.requested_at), e.source, e.reason, _text(e.attempt_id))
    console.print(dnc)


def _print_ebrs(ledger: ConsentLedger) -> None:
    """Print the number's established business relationships as a table."""
    ebrs = Table("id", "seller", "kind", "occurred at", "source", title="established business relationships")
    for b in ledger.ebrs:
        ebrs.add_row(str(b.id), b.seller_name, b.kind, _at(b.occurred_at), b.source)
    console.print(ebrs)


def _print_contacts(ledger: ConsentLedger) -> None:
    """Print the outside contacts with the number as a table; nothing when there are none."""
    if not ledger.contacts:
        return
    contacts = Table(
        "attempted at",
        "channel",
        "subject",
        "caller ID",
        "answered",
        "source",
        title="outside contacts",
    )
    for c in ledger.contacts:
        answered = "" if c.answered is None else ("yes" if c.answered else "no")
        contacts.add_row(
            _at(c.attempted_at), c.channel, _text(c.subject), _text(c.caller_id), answered, c.source
        )
    console.print(contacts)


def _print_rnd(ledger: ConsentLedger) -> None:
    """Print the number's Reassigned Numbers Database answer on file, or that there is none."""
    rnd = ledger.rnd
    if rnd is None:
        console.print("RND: no answer on file (47 CFR 64.1200(m))")
    else:
        console.print(
            f"RND: {rnd.result} (queried {_at(rnd.queried_at)} for consent date {rnd.consent_date}, "
            f"source {rnd.source})"
        )


@app.command("show")
def show(number: str = typer.Argument(..., help="The number (any common format).")) -> None:
    """Show everything the gate reads about a number's consent, with the evidence (times in UTC)."""
    rt = runtime()
    with rt.sessions() as session:
        ledger = consent_ledger(session, number)
        console.print(f"consent ledger of {ledger.phone_e164}")
        _print_consents(ledger)
        _print_revocations(ledger)
        _print_dnc_requests(ledger)
        _print_ebrs(ledger)
        _print_contacts(ledger)
        _print_rnd(ledger)


@app.command("revoke")
def revoke(
    number: str = typer.Argument(..., help="The number (any common format)."),
    reason: str = typer.Option("", "--reason", help="Why (e.g. 'asked by email on 2026-11-02')."),
) -> None:
    """Revoke every consent for a number, now; a PEWC signed later restores calling.

    This is a revocation only (channel ``cli``), not a DNC request: for a request not to be called,
    use ``dialer dnc add`` (which also revokes consent and is kept indefinitely).
    """
    rt = runtime()
    with transaction(rt.sessions) as session:
        revocation = revoke_consent(
            session,
            phone_e164=number,
            now=rt.clock.now(),
            channel="cli",
            source="cli",
            actor=actor(),
            reason=reason,
        )
        console.print(
            f"consent for {revocation.phone_e164} revoked at {_at(revocation.revoked_at)} "
            f"(revocation {revocation.id}); the gate blocks its calls until a newer PEWC"
        )


@app.command("import-revocations")
def import_revocations(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV: phone,revoked_at[,channel][,source]"
    ),
) -> None:
    """Import consent revocations captured elsewhere; a bad row writes nothing."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        rows = import_revocations_csv(session, file, now=rt.clock.now(), actor=actor())
        numbers = len({r.phone_e164 for r in rows})
    console.print(f"{len(rows)} revocations imported for {numbers} numbers from {file.name}")


@app.command("import-ebr")
def import_ebr(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: phone,seller,kind,occurred_at"),
) -> None:
    """Import established business relationships (47 CFR 64.1200(f)(5)); a bad row writes nothing."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        rows = import_ebr_csv(session, file, now=rt.clock.now(), actor=actor())
        kinds = {kind: sum(1 for r in rows if r.kind == kind) for kind in EBR_KINDS}
    console.print(
        f"{len(rows)} EBR records imported from {file.name}: {kinds['purchase']} purchase, "
        f"{kinds['inquiry']} inquiry"
    )
