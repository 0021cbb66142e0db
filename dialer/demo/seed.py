"""What the demo puts in the database before any process starts: registries, campaign, leads.

The sandbox's national and state DNC files go through the real registry import, the earlier
opt-outs that travel with the leads file through the internal list's import, and the leads through
``dialer leads import``'s service, so the gate at dial time reads what a production campaign reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from sqlalchemy.orm import Session

from dialer.campaigns import CallSettings, create_campaign, set_status
from dialer.consent import import_internal_list
from dialer.db import transaction
from dialer.leads.report import format_registry_scrub
from dialer.leads.service import import_leads
from dialer.models import CampaignStatus
from dialer.registry import RegistryStore, import_registry, registry_store

if TYPE_CHECKING:
    from dialer.demo.runner import DemoOptions

OPT_OUTS_SUFFIX = ".dnc.csv"
"""``<leads stem>.dnc.csv`` beside a leads file lists earlier opt-outs (see :func:`earlier_opt_outs_file`)."""
SANDBOX_NATIONAL_DNC = ("2145550115", "3125550177", "4045550190")
"""The sandbox's national DNC list, in the FTC's flat format; Henry Scott (no consent) is on it."""
SANDBOX_STATE_DNC = {"TX": ("214,5550115",)}
"""State lists in the sandbox (``area code,number`` lines, as some state files are)."""
SANDBOX_REGISTRY_AGE = timedelta(days=2)
"""The sandbox registry files count as downloaded this long before the sandbox clock."""
SELLER = "Northwind Analytics, Inc."
"""The demo campaign's seller (as the example leads' consents name it)."""
CALLER_ID = "+13125550199"
PRODUCT = "a data-quality monitoring platform"


def earlier_opt_outs_file(leads_file: Path) -> Path | None:
    """The earlier opt-outs that travel with ``leads_file``: ``<stem>.dnc.csv`` beside it, if present.

    ``leads.example.csv`` -> ``leads.example.dnc.csv`` (Ryan Hughes asked by email not to be called
    before the campaign started). The file is an internal DNC list in the shape ``dialer dnc import
    FILE --list internal`` reads (one number per line, a header, ``#`` comments) and is imported
    through that path before the leads, so the gate itself must catch those numbers at dial time.
    """
    candidate = leads_file.with_name(leads_file.stem + OPT_OUTS_SUFFIX)
    return candidate if candidate.is_file() and candidate != leads_file else None


def _import_sandbox_registries(
    session: Session, store: RegistryStore, workdir: Path, *, now: datetime
) -> None:
    """Import the sandbox's national and state DNC files through the real import path.

    The files are written in the FTC's flat formats and imported as if downloaded
    ``SANDBOX_REGISTRY_AGE`` before the sandbox clock, so the gate's 31-day rule (CP-10) passes and
    the registry lookups at dial time are the real ones.
    """
    source = workdir / "registry-downloads"
    source.mkdir(parents=True, exist_ok=True)
    lists = {"national": SANDBOX_NATIONAL_DNC, **SANDBOX_STATE_DNC}
    for list_name, numbers in lists.items():
        path = source / f"{list_name.lower()}-sandbox.txt"
        path.write_text("\n".join(numbers) + "\n", encoding="utf-8")
        import_registry(
            session,
            store,
            list_name=list_name,
            files=[path],
            kind="full",
            downloaded_at=now - SANDBOX_REGISTRY_AGE,
            now=now,
            actor="user:demo",
        )


def seed_campaign(options: DemoOptions, runtime: Any, console: Console) -> tuple[int, dict[str, Any]]:
    """The sandbox registries, the demo campaign, the earlier opt-outs and the leads, then start it.

    Returns:
        ``(campaign id, the import's summary for the report)``.
    """
    settings = runtime.settings
    opt_outs = earlier_opt_outs_file(options.leads_file)
    with transaction(runtime.sessions) as session:
        # Its own transaction: a registry file is swapped in when its import commits, and the lead
        # import below scrubs against the files on disk.
        _import_sandbox_registries(
            session, registry_store(settings), options.workdir, now=runtime.clock.now()
        )
    with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        campaign = create_campaign(
            session,
            name="demo",
            seller_name=SELLER,
            caller_id=CALLER_ID,
            now=now,
            actor="user:demo",
            product=PRODUCT,
            max_concurrent_calls=options.concurrency,
            max_attempts=2,
            retry_delay_seconds=5,
            call_settings=CallSettings(voice_agent=options.voice_agent),
        )
        # On the list before the file arrives, so the gate itself must catch it at dial time.
        if opt_outs is not None:
            import_internal_list(
                session, opt_outs, now=now, actor="user:demo", reason=f"earlier opt-out ({opt_outs.name})"
            )
        result = import_leads(
            session,
            campaign_name="demo",
            path=options.leads_file,
            attestation=options.consent_attestation,
            attested_by="demo",
            now=now,
            registry=registry_store(settings),
        )
        set_status(session, campaign=campaign, status=CampaignStatus.RUNNING, now=now, actor="user:demo")
        campaign_id = campaign.id
    _print_import(console, result, opt_outs)
    return campaign_id, {
        "file": str(options.leads_file),
        "earlier_opt_outs": str(opt_outs) if opt_outs else None,
        "leads_created": result.leads_created,
        "rejected": [{"row": r.row, "column": r.column, "reason": r.reason} for r in result.rejected],
        "folded": len(result.folded),
        "warnings": len(result.warnings),
        "rejected_report": str(result.rejected_report_path) if result.rejected_report_path else None,
        "registry_scrub": result.registry_scrub.as_dict() if result.registry_scrub else None,
    }


def _print_import(console: Console, result: Any, opt_outs: Path | None) -> None:
    console.print(
        f"imported {result.leads_created} leads ({len(result.rejected)} rejected, "
        f"{len(result.folded)} duplicates folded)"
    )
    if opt_outs is not None:
        console.print(f"earlier opt-outs from {opt_outs.name} are on the internal DNC list")
    if result.registry_scrub is not None:
        console.print(format_registry_scrub(result.registry_scrub))
