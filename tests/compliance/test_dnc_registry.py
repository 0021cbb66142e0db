from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from compliance.dnc_registry import (
    DncRegistry,
    RegistryFormatError,
    apply_changes,
    build_registry,
    ten_digit,
)

BUILT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
DOWNLOADED = datetime(2026, 1, 15, 6, 30, tzinfo=timezone(timedelta(hours=-6)))
EDGES = [2002000000, 2002009999, 2009999999, 3122000000, 3125550101, 9999999999, 9992000000]


def _build(path: Path, numbers, **kw) -> DncRegistry:
    build_registry(
        path,
        np.asarray(numbers, dtype=np.uint64),
        list_name=kw.pop("list_name", "national"),
        downloaded_at=kw.pop("downloaded_at", DOWNLOADED),
        sources=kw.pop("sources", ("ftc-312.zip sha256:ab12",)),
        built_at=BUILT,
    )
    return DncRegistry.open(path)


def test_ten_digit():
    assert ten_digit("+13125550101") == 3125550101
    for bad in [
        "+443125550101",
        "3125550101",
        "+1312555010",
        "+131255501011",
        "+10125550101",
        "+11125550101",
        "+13120550101",
        "+13121550101",
        "+1312555010x",
        " +13125550101",
        "",
    ]:
        assert ten_digit(bad) is None, bad


def test_round_trip_edges_duplicates_and_meta(tmp_path):
    numbers = EDGES + EDGES[:3] + [3125550101]
    with _build(tmp_path / "n.dnc", numbers) as reg:
        assert reg.meta.count == len(set(EDGES))
        assert reg.meta.list_name == "national"
        assert reg.meta.built_at == BUILT
        assert reg.meta.downloaded_at == DOWNLOADED and reg.meta.downloaded_at.tzinfo == UTC
        assert reg.meta.sources == ("ftc-312.zip sha256:ab12",)
        for n in EDGES:
            assert n in reg
            assert reg.contains_e164(f"+1{n}")
        for n in [2001999999, 2002000001, 3125550102, 4155550101, 9991999999, 1999999999, 10**10, 0, -5]:
            assert n not in reg
        assert not reg.contains_e164("+14155550101")
        assert not reg.contains_e164("+443125550101")
        assert reg.numbers().tolist() == sorted(set(EDGES))
        assert reg.numbers().dtype == np.uint64
        with pytest.raises(TypeError):
            "3125550101" in reg  # noqa: B015


def test_contains_many_agrees_with_set(tmp_path):
    rng = np.random.default_rng(7)
    npas = np.array([201, 312, 415, 512, 999])
    registered = npas[rng.integers(0, 5, 50_000)] * 10**7 + rng.integers(2_000_000, 10**7, 50_000)
    with _build(tmp_path / "r.dnc", registered) as reg:
        known = set(registered.tolist())
        queries = np.concatenate(
            [
                registered[:5000],
                rng.integers(0, 2 * 10**10, 20_000),
                npas[rng.integers(0, 5, 20_000)] * 10**7 + rng.integers(0, 10**7, 20_000),
            ]
        ).astype(np.int64)
        got = reg.contains_many(queries)
        assert got.dtype == np.bool_ and got.shape == queries.shape
        assert got.tolist() == [int(q) in known for q in queries]
        grid = reg.contains_many(queries.astype(np.uint64).reshape(-1, 5))
        assert grid.shape == (queries.size // 5, 5) and grid.reshape(-1).tolist() == got.tolist()
        assert reg.contains_many(np.array([-1, 3125550101], dtype=np.int64)).tolist()[0] is False
        assert reg.meta.count == len(known)
        assert reg.numbers().tolist() == sorted(known)


def test_build_unsorted_equals_sorted(tmp_path):
    rng = np.random.default_rng(1)
    npas = np.array([205, 312, 646, 999])
    numbers = npas[rng.integers(0, 4, 30_000)] * 10**7 + rng.integers(2_000_000, 10**7, 30_000)
    a = _build(tmp_path / "a.dnc", numbers)
    b = _build(tmp_path / "b.dnc", np.sort(numbers))
    assert np.array_equal(a.numbers(), b.numbers())
    a.close()
    b.close()


def test_empty_registry(tmp_path):
    with _build(tmp_path / "e.dnc", [], list_name="internal", downloaded_at=None) as reg:
        assert reg.meta.count == 0 and reg.meta.downloaded_at is None
        assert 3125550101 not in reg
        assert reg.contains_many(np.array([3125550101], dtype=np.uint64)).tolist() == [False]
        assert reg.numbers().size == 0


@pytest.mark.parametrize("bad", [3120550101, 3121550101, 1125550101, 999, 10**10])
def test_build_rejects_invalid_number_with_index(tmp_path, bad):
    with pytest.raises(ValueError, match=rf"numbers\[2\] = {bad}"):
        build_registry(
            tmp_path / "x.dnc",
            np.array([3125550101, 3125550102, bad], dtype=np.uint64),
            list_name="national",
            downloaded_at=None,
            built_at=BUILT,
        )
    assert not list(tmp_path.iterdir())


def test_build_rejects_naive_time_and_float(tmp_path):
    with pytest.raises(ValueError, match="aware"):
        build_registry(
            tmp_path / "x.dnc",
            np.array([3125550101], dtype=np.uint64),
            list_name="TX",
            downloaded_at=None,
            built_at=datetime(2026, 1, 1),
        )
    with pytest.raises(TypeError):
        build_registry(
            tmp_path / "x.dnc", np.array([3125550101.0]), list_name="TX", downloaded_at=None, built_at=BUILT
        )


def test_atomic_rebuild_keeps_open_reader(tmp_path):
    path = tmp_path / "national.dnc"
    old = _build(path, [3125550101, 4155550101])
    new_meta = build_registry(
        path,
        np.array([2125550101], dtype=np.uint64),
        list_name="national",
        downloaded_at=None,
        built_at=BUILT + timedelta(days=1),
    )
    assert new_meta.count == 1
    assert 3125550101 in old and 2125550101 not in old
    assert old.contains_many(np.array([4155550101, 2125550101], dtype=np.uint64)).tolist() == [True, False]
    with DncRegistry.open(path) as new:
        assert 2125550101 in new and 3125550101 not in new
        assert new.meta.built_at == BUILT + timedelta(days=1)
    old.close()
    old.close()
    with pytest.raises(ValueError, match="closed"):
        3125550101 in old  # noqa: B015
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national.dnc"]


def test_format_errors_name_the_path(tmp_path):
    good = tmp_path / "good.dnc"
    _build(good, [3125550101]).close()
    data = good.read_bytes()
    cases = {
        "garbage.dnc": b"hello world" * 1000,
        "short.dnc": b"DNCREG01",
        "truncated.dnc": data[:-10],
        "version.dnc": b"DNCREG99" + data[8:],
        "badmeta.dnc": data[:4040] + b"[" + data[4041:],
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(RegistryFormatError, match=name):
            DncRegistry.open(tmp_path / name)


def test_apply_changes():
    current = np.array([2125550101, 3125550101, 4155550101], dtype=np.uint64)
    out = apply_changes(
        current,
        np.array([3125550101, 9995550101, 2015550101], dtype=np.uint64),
        np.array([4155550101, 7775550101], dtype=np.uint64),
    )
    assert out.tolist() == [2015550101, 2125550101, 3125550101, 9995550101]
    assert out.dtype == np.uint64
    assert apply_changes(
        np.array([5, 3, 3], dtype=np.uint64), np.array([], dtype=np.uint64), np.array([], dtype=np.uint64)
    ).tolist() == [3, 5]
    same = apply_changes(current, np.array([], dtype=np.uint64), np.array([], dtype=np.uint64))
    same[0] = 0
    assert current[0] == 2125550101


def test_change_list_round_trip(tmp_path):
    path = tmp_path / "n.dnc"
    with _build(path, [2125550101, 3125550101]) as reg:
        updated = apply_changes(
            reg.numbers(), np.array([4155550101], dtype=np.uint64), np.array([2125550101], dtype=np.uint64)
        )
    with _build(path, updated) as reg:
        assert reg.numbers().tolist() == [3125550101, 4155550101]
