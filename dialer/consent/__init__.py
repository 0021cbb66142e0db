"""The consent ledger: what a number's owner agreed to, revoked, or has with the seller.

This room owns every fact about consent the gate reads at dial time, and the writers of those
facts: revocations and the auditor's view of a number's ledger (:mod:`.ledger`); established
business relationships, outside contacts and compliance flags (:mod:`.records`); the internal
do-not-call list, where an opt-out becomes an entry, a revocation and a stopped lead at once
(:mod:`.dnc`, CP-8); the CSV imports of all of them, all or nothing (:mod:`.imports`, reading
files with :mod:`.csv_files`); and the checks every writer shares (:mod:`.checks`).

It imports the registry room (RND answers, number files), never the other way round.
"""

from dialer.consent.dnc import (
    add_internal_dnc,
    import_internal_list,
    internal_dnc_entries,
    remove_internal_dnc,
)
from dialer.consent.imports import import_contact_history_csv, import_ebr_csv, import_revocations_csv
from dialer.consent.ledger import consent_ledger, effective_revocation, record_revocation, revoke_consent
from dialer.consent.records import (
    EBR_KINDS,
    add_ebr,
    compliance_flags,
    record_contact_attempt,
    set_compliance_flag,
)

__all__ = [
    "EBR_KINDS",
    "add_ebr",
    "add_internal_dnc",
    "compliance_flags",
    "consent_ledger",
    "effective_revocation",
    "import_contact_history_csv",
    "import_ebr_csv",
    "import_internal_list",
    "import_revocations_csv",
    "internal_dnc_entries",
    "record_contact_attempt",
    "record_revocation",
    "remove_internal_dnc",
    "revoke_consent",
    "set_compliance_flag",
]
