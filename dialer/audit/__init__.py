"""The audit log: append-only events, sealed in batches into a chain, verified and exported with proof.

Owns the ``audit_events`` and ``audit_seals`` tables. Appending (:func:`record_event`) is a plain
``INSERT`` in the caller's transaction: order comes from the events' id sequence and no shared row
is read or locked, so writers never queue on one another. :func:`seal_pending` later chains the
committed events in batches (Merkle tree per batch, each seal hashing the previous one, as RFC
9162 transparency logs do); :func:`verify_chain` names the first altered, missing, reordered or
inserted event and the first broken seal; :func:`export_events` writes a sealed range with
inclusion proofs that :func:`verify_export` checks offline.

Modules: :mod:`~dialer.audit.events` (append, content hash), :mod:`~dialer.audit.merkle` (pure
RFC 9162 hashing), :mod:`~dialer.audit.sealing`, :mod:`~dialer.audit.verify`,
:mod:`~dialer.audit.export`, :mod:`~dialer.audit.query` (the auditor's filters, pages newest first).
"""

from dialer.audit.events import (
    GENESIS_HASH,
    append_events,
    content_hash,
    event_as_dict,
    event_values,
    iter_events,
    record_attempt_event,
    record_event,
)
from dialer.audit.export import (
    AuditExportError,
    ExportVerifyResult,
    export_events,
    sealed_range,
    verify_export,
)
from dialer.audit.query import AuditFilter, event_kinds, page_events
from dialer.audit.sealing import SealReport, seal_pending
from dialer.audit.verify import VerifyResult, verify_chain

__all__ = [
    "GENESIS_HASH",
    "AuditExportError",
    "AuditFilter",
    "ExportVerifyResult",
    "SealReport",
    "VerifyResult",
    "append_events",
    "content_hash",
    "event_as_dict",
    "event_kinds",
    "event_values",
    "export_events",
    "iter_events",
    "page_events",
    "record_attempt_event",
    "record_event",
    "seal_pending",
    "sealed_range",
    "verify_chain",
    "verify_export",
]
