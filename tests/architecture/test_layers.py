"""The house's rules of import, read from the code (README "The house"): who may import whom.

A rule broken here is a design change: change the README's picture with it, or change the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("compliance", "dialer", "bridge", "crm", "sandbox")


def _imports() -> list[tuple[str, str]]:
    """``(importing module, imported module)`` for every absolute import between product modules."""
    found = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                found += [(module, t) for t in targets if t.split(".")[0] in PRODUCT]
    return found


IMPORTS = _imports()


def _room(module: str) -> str:
    """``dialer.consent.ledger`` -> ``dialer.consent``; a flat ``dialer`` module -> ``dialer``."""
    parts = module.split(".")
    if parts[0] == "dialer" and len(parts) > 1 and (ROOT / "dialer" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def _edges(source: str, target: str) -> list[str]:
    return sorted(
        f"{a} -> {b}" for a, b in IMPORTS if _room(a).startswith(source) and _room(b).startswith(target)
    )


def test_the_scan_sees_the_house():
    assert len(IMPORTS) > 300 and _edges("bridge", "dialer")  # a scan that reads nothing proves nothing


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("compliance", "dialer", "the rules are pure: facts in, decision out"),
        ("compliance", "bridge", "the rules are pure"),
        ("sandbox", "dialer", "the stand-ins speak the wire protocols only, like the services they replace"),
        ("sandbox", "bridge", "the stand-ins speak the wire protocols only"),
        ("dialer", "bridge", "the engine runs without the API process"),
        ("dialer", "crm", "the engine runs without the CRM"),
        ("crm", "bridge", "the CRM reads the engine's tables, not the call bridge"),
        (
            "dialer.registry",
            "dialer.consent",
            "consent reads RND answers; registries know nothing of consent",
        ),
        ("dialer.models", "dialer.", "the tables import nothing but the core"),
        ("dialer.calls", "dialer.dialing", "the dial engine builds on the calls room, never the reverse"),
        ("dialer.calls", "dialer.consent", "a call's progress and outcome need no consent ledger"),
        ("dialer.leads", "dialer.consent", "the lead import writes consent records through its own writers"),
        (
            "dialer.outbox",
            "dialer.calls",
            "the rooms that publish events build on the outbox, not the reverse",
        ),
        ("dialer.outbox", "dialer.consent", "the outbox knows its tables, not the rooms that publish to it"),
        ("dialer.outbox", "dialer.dialing", "the outbox knows its tables, not the dial engine"),
    ],
)
def test_a_room_never_imports_what_it_must_not(source, target, why):
    edges = [e for e in _edges(source, target) if _room(e.split(" -> ")[1]) != source]  # within the room
    assert not edges, f"{why}: {edges}"


def test_no_room_reaches_into_another_rooms_private_module():
    leaks = sorted(
        f"{a} -> {b}"
        for a, b in IMPORTS
        if any(part.startswith("_") and not part.startswith("__") for part in b.split("."))
        and _room(a) != _room(b)
    )
    assert not leaks, leaks
