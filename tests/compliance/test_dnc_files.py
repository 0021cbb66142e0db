from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from compliance.dnc_files import DncFileError, read_change_list, read_full_list

NUMBERS = [3125550101, 3125550102, 2002000000, 9999999999]


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("shape", ["ten", "comma"])
def test_full_list_shapes(tmp_path, newline, shape):
    lines = [str(n) if shape == "ten" else f"{n // 10**7},{n % 10**7:07d}" for n in NUMBERS]
    path = _write(tmp_path / "312.txt", newline.join(lines) + newline)
    got = read_full_list(path)
    assert got.dtype == np.uint64 and got.tolist() == NUMBERS
    # no final newline, blank lines, spaces and a BOM: the slow path
    messy = newline.join(["", lines[0], "  ", f" {lines[1]} ", *lines[2:]])
    path = _write(tmp_path / "x.txt", "\ufeff" + messy)
    assert read_full_list(path).tolist() == NUMBERS


def test_large_fixed_width_with_irregular_lines(tmp_path):
    rng = np.random.default_rng(3)
    numbers = (rng.integers(200, 1000, 20_000) * 10**7 + rng.integers(2_000_000, 10**7, 20_000)).tolist()
    lines = [str(n) for n in numbers]
    lines[5000] = f"{numbers[5000] // 10**7},{numbers[5000] % 10**7:07d}"
    lines[9000] += "\n"
    path = _write(tmp_path / "big.txt", "\n".join(lines) + "\n")
    assert read_full_list(path).tolist() == numbers


def test_zip_with_several_members(tmp_path):
    path = tmp_path / "ftc.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("312.txt", "3125550101\r\n3125550102\r\n")
        z.writestr("dir/", "")
        z.writestr("415.txt", "415,5550101\n")
    assert read_full_list(path).tolist() == [3125550101, 3125550102, 4155550101]


def test_bad_line_location_in_zip_member(tmp_path):
    path = tmp_path / "ftc.zip"
    body = "\n".join(["3125550101"] * 6 + ["31255501x1", "3125550101"]) + "\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("312.txt", body)
    with pytest.raises(DncFileError) as info:
        read_full_list(path)
    err = info.value
    assert (err.path, err.line, err.column) == (f"{path}:312.txt", 7, 1)
    assert str(err) == f"{path}:312.txt line 7, column 1: '31255501x1' is not a 10-digit number"


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("312,555010", 5, "7-digit"),
        ("31a,5550101", 1, "area code"),
        ("1125550101", 1, "area code 112"),
        ("3121550101", 1, "exchange 155"),
        ("3125550101,A", 12, "unexpected field"),
        ("312555010", 1, "10-digit"),
        ("31255501é1", 9, "non-ASCII"),
    ],
)
def test_full_list_errors(tmp_path, line, column, words):
    path = _write(tmp_path / "f.txt", f"3125550101\n{line}\n3125550102\n")
    with pytest.raises(DncFileError, match=words) as info:
        read_full_list(path)
    assert (info.value.line, info.value.column) == (2, column)


def test_xml_refused(tmp_path):
    path = _write(tmp_path / "f.xml", "<?xml version='1.0'?><list/>")
    with pytest.raises(DncFileError, match="XML"):
        read_full_list(path)


def test_change_list_layouts(tmp_path):
    text = "\r\n".join(
        [
            "312,5550101,A",
            "3125550102,d",
            "415,5550101,add,2026-01-15",
            "4155550102, Delete ,01/15/2026 12:00:00",
            "",
            "9995550101,D",
            "9995550101,A",
        ]
    )
    path = tmp_path / "changes.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("changes.txt", text)
    changes = read_change_list(path)
    assert changes.additions.tolist() == [3125550101, 4155550101, 9995550101]
    assert changes.deletions.tolist() == [3125550102, 4155550102]
    assert changes.additions.dtype == changes.deletions.dtype == np.uint64


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("3125550101", 11, "missing add/delete"),
        ("3125550101,X", 12, "not an add/delete flag"),
        ("3125550101,A,yesterday", 14, "not a date"),
        ("3125550101,A,2026-01-15,extra", 25, "unexpected field"),
        ("312555010x,A", 1, "10-digit"),
    ],
)
def test_change_list_errors(tmp_path, line, column, words):
    path = _write(tmp_path / "c.txt", f"3125550109,A\n{line}\n")
    with pytest.raises(DncFileError, match=words) as info:
        read_change_list(path)
    assert (info.value.path, info.value.line, info.value.column) == (str(path), 2, column)
