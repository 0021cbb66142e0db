"""The DNC registries: the national and state lists as files, their imports, and RND answers.

This room owns the lists of numbers that must not be called whatever the consent ledger says:
the memory-mapped list files and their dial-time lookup, import-time scrub and status
(:mod:`.store`); building them from FTC and state downloads, staged then published
(:mod:`.build`); the imports recorded in the database and the plain number files of the
internal list (:mod:`.imports`); and the Reassigned Numbers Database answers (:mod:`.rnd`,
47 CFR 64.1200(m)). The internal list's entries themselves are consent facts
(:mod:`dialer.consent.dnc`).
"""

from dialer.registry.build import import_changes, import_full
from dialer.registry.imports import import_registry, national_downloaded_at, read_number_file
from dialer.registry.rnd import latest_rnd, read_rnd_csv, record_rnd_results
from dialer.registry.store import (
    INTERNAL,
    NATIONAL,
    STALE_AFTER,
    STATE_LISTS,
    RegistryStore,
    ScrubCounts,
    check_list_name,
    is_stale,
    registry_store,
)

__all__ = [
    "INTERNAL",
    "NATIONAL",
    "STALE_AFTER",
    "STATE_LISTS",
    "RegistryStore",
    "ScrubCounts",
    "check_list_name",
    "import_changes",
    "import_full",
    "import_registry",
    "is_stale",
    "latest_rnd",
    "national_downloaded_at",
    "read_number_file",
    "read_rnd_csv",
    "record_rnd_results",
    "registry_store",
]
