"""DNC scrub: the memory-mapped registry bitmap (compliance.dnc_registry) against a Postgres join.

Builds a synthetic national registry (258.5 M distinct US numbers, COMPLIANCE_RULES.md 1.3, spread
evenly over the 383 area codes phonenumbers knows as US, grouped by area code as the FTC files are)
and a 10 M one, then reports build time, resident bytes per registered number, open time, batch
scrub rate for 1 M lead numbers (half drawn from the registry), single-lookup latency, and the same
1 M-lead scrub against the 10 M registry done the naive way in Postgres (a table with a primary key,
COPY the leads into a temp table, one join) as the baseline measured in the same run.

Scrubs and lookups are measured in a fresh child process pinned to one core, which opens the
file after evicting it from the page cache (posix_fadvise DONTNEED) so the first scrub reads from
disk (cold), then repeats it (warm, best of 5). Resident memory is the RSS of the registry mapping
(``Rss`` of its line in /proc/self/smaps) after the scrubs touched it, and the process's VmRSS delta.

    .venv/bin/python bench/dnc_scrub.py                    # full: 258.5 M + 10 M (0.4 GB of disk)
    .venv/bin/python bench/dnc_scrub.py --scale 0.01       # quick: 2.6 M + 100 k
    .venv/bin/python bench/dnc_scrub.py --numbers 2000000 --baseline-numbers 1000000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.dnc_registry import DncRegistry, build_registry  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_BYTES = 2.0
TARGET_RATE = 10e6
TARGET_OPEN_S = 1.0
TARGET_RATIO = 50.0


def us_area_codes() -> np.ndarray:
    """Area codes that phonenumbers (9.0.43) accepts as US for at least one common exchange."""
    found = []
    for npa in range(200, 1000):
        for nxx in (234, 555, 567, 789, 876, 456, 345, 678, 300, 400, 500, 600, 700, 800, 900, 999):
            number = phonenumbers.parse(f"+1{npa}{nxx}1234")
            if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "US":
                found.append(npa)
                break
    return np.array(found, dtype=np.int64)


def synthetic(count: int, npas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct numbers, evenly over ``npas``, grouped by area code and sorted within each."""
    out = np.empty(count, dtype=np.uint64)
    per = np.full(npas.size, count // npas.size)
    per[: count % npas.size] += 1
    pos = 0
    for npa, k in zip(npas.tolist(), per.tolist(), strict=True):
        p = min(1.0, k / 8_000_000 * 1.01 + 1e-4)
        found = np.flatnonzero(rng.random(8_000_000, dtype=np.float32) < p)
        while found.size < k:  # vanishingly rare; widen and retry
            p = min(1.0, p * 1.1)
            found = np.flatnonzero(rng.random(8_000_000, dtype=np.float32) < p)
        if found.size > k:
            found = np.delete(found, rng.choice(found.size, found.size - k, replace=False))
        out[pos : pos + k] = found.astype(np.uint64) + np.uint64(npa * 10_000_000 + 2_000_000)
        pos += k
    return out


def leads_for(registry: np.ndarray, count: int, npas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``count`` lead numbers: half drawn from ``registry``, half random US numbers."""
    half = count // 2
    drawn = registry[rng.integers(0, registry.size, half)]
    other = rng.choice(npas, count - half) * 10_000_000 + rng.integers(2_000_000, 10_000_000, count - half)
    leads = np.concatenate([drawn, other.astype(np.uint64)])
    rng.shuffle(leads)
    return leads


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _mapping_rss(path: Path) -> int:
    """Rss of the mapping of ``path`` in this process, bytes (sum over its smaps entries)."""
    total, inside = 0, False
    target = str(path.resolve())
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(None, 1)[0]
        if "-" in first and first[0] in "0123456789abcdef" and not first.endswith(":"):
            inside = line.rstrip().endswith(target)
        elif inside and first == "Rss:":
            total += int(line.split()[1]) * 1024
    return total


def child(path: Path, leads_path: Path) -> dict:
    """In a fresh process on one core: open cold, scrub cold and warm, single lookups, RSS."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    leads = np.load(leads_path)
    with open(path, "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    rss0 = _status("VmRSS")
    t = time.perf_counter()
    reg = DncRegistry.open(path)
    open_s = time.perf_counter() - t
    rss_open = _status("VmRSS")
    t = time.perf_counter()
    hits = reg.contains_many(leads)
    cold_s = time.perf_counter() - t
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        reg.contains_many(leads)
        warm.append(time.perf_counter() - t)
    sample = leads[:100_000].tolist()
    t = time.perf_counter_ns()
    single_hits = sum(1 for n in sample if n in reg)
    single_ns = (time.perf_counter_ns() - t) / len(sample)
    e164 = [f"+1{n}" for n in sample]
    t = time.perf_counter_ns()
    for s in e164:
        reg.contains_e164(s)
    e164_ns = (time.perf_counter_ns() - t) / len(e164)
    assert single_hits == int(hits[:100_000].sum())
    result = {
        "count": reg.meta.count,
        "file_bytes": path.stat().st_size,
        "open_s": open_s,
        "rss_after_open_delta": rss_open - rss0,
        "scrub_cold_s": cold_s,
        "scrub_warm_s": min(warm),
        "hits": int(hits.sum()),
        "single_lookup_ns": single_ns,
        "contains_e164_ns": e164_ns,
        "mapping_rss": _mapping_rss(path),
        "vmrss_delta": _status("VmRSS") - rss0,
    }
    reg.close()
    return result


def run_child(path: Path, leads_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(leads_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def postgres_baseline(registry: np.ndarray, leads: np.ndarray, url: str) -> dict:
    """Load ``registry`` into a primary-keyed table; scrub ``leads`` with COPY + one join."""
    import psycopg

    table = f"dnc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(f"CREATE TABLE {table} (number bigint PRIMARY KEY)")
            t = time.perf_counter()
            with conn.cursor().copy(f"COPY {table} (number) FROM STDIN") as copy:
                for start in range(0, registry.size, 1_000_000):
                    copy.write("\n".join(map(str, registry[start : start + 1_000_000].tolist())) + "\n")
            conn.execute(f"ANALYZE {table}")
            load_s = time.perf_counter() - t
            text = "\n".join(map(str, leads.tolist())) + "\n"
            t = time.perf_counter()
            conn.execute("CREATE TEMP TABLE bench_leads (number bigint)")
            with conn.cursor().copy("COPY bench_leads (number) FROM STDIN") as copy:
                copy.write(text)
            rows = conn.execute(
                f"SELECT l.number FROM bench_leads l JOIN {table} d ON d.number = l.number"
            ).fetchall()
            scrub_s = time.perf_counter() - t
            conn.execute("DROP TABLE bench_leads")
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return {"load_s": load_s, "scrub_s": scrub_s, "hits": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=258_500_000, help="national registry size")
    parser.add_argument("--baseline-numbers", type=int, default=10_000_000, help="registry size vs Postgres")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies both registry sizes")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the registry files")
    parser.add_argument("--pg", default=PG_URL)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    rng = np.random.default_rng(2026)
    npas = us_area_codes()
    big_n = int(args.numbers * args.scale)
    small_n = int(args.baseline_numbers * args.scale)
    built_at = datetime.now(UTC)
    report: dict = {"area_codes": int(npas.size), "leads": args.leads}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dnc-bench-") as tmp:
        work = Path(tmp)
        runs = {}
        leads = np.empty(0, dtype=np.uint64)
        for name, n in (("national", big_n), ("baseline", small_n)):
            t = time.perf_counter()
            numbers = synthetic(n, npas, rng)
            gen_s = time.perf_counter() - t
            if name == "national":
                leads = leads_for(numbers, args.leads, npas, rng)
            np.save(work / "leads.npy", leads)
            if name == "baseline":
                shuffled = rng.permutation(numbers)
            path = work / f"{name}.dnc"
            t = time.perf_counter()
            build_registry(path, numbers, list_name="national", downloaded_at=built_at, built_at=built_at)
            build_s = time.perf_counter() - t
            run = {"numbers": n, "generate_s": gen_s, "build_s": build_s}
            if name == "baseline":
                t = time.perf_counter()
                build_registry(
                    work / "shuffled.dnc", shuffled, list_name="x", downloaded_at=None, built_at=built_at
                )
                run["build_unsorted_s"] = time.perf_counter() - t
                del shuffled
            run["build_peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            run.update(run_child(path, work / "leads.npy"))
            if name == "baseline":
                run["postgres"] = postgres_baseline(numbers, leads, args.pg)
            del numbers
            runs[name] = run
        report.update(runs)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def print_report(r: dict) -> None:
    nat, base = r["national"], r["baseline"]
    pg = base["postgres"]
    leads = r["leads"]
    pg_rate = leads / pg["scrub_s"]
    rows = [
        ("registry numbers", f"{nat['numbers']:,}", f"{base['numbers']:,}", ""),
        ("area codes", str(r["area_codes"]), str(r["area_codes"]), ""),
        ("synthetic generation", f"{nat['generate_s']:.1f} s", f"{base['generate_s']:.1f} s", ""),
        ("build (grouped by area code)", f"{nat['build_s']:.2f} s", f"{base['build_s']:.2f} s", ""),
        ("build (random order)", "", f"{base['build_unsorted_s']:.2f} s", ""),
        ("build process peak RSS", _gib(nat["build_peak_rss"]), _gib(base["build_peak_rss"]), "incl. input"),
        ("file size", _gib(nat["file_bytes"]), _gib(base["file_bytes"]), ""),
        ("file bytes / number", f"{nat['file_bytes'] / nat['count']:.3f}", "", ""),
    ]
    res_bpn = nat["mapping_rss"] / nat["count"]
    rows += [
        ("mapping RSS after scrubs", _gib(nat["mapping_rss"]), _gib(base["mapping_rss"]), ""),
        ("resident bytes / number", f"{res_bpn:.3f}", "", f"target <= {TARGET_BYTES}"),
        (
            "VmRSS delta (open+scrub)",
            _gib(nat["vmrss_delta"]),
            _gib(base["vmrss_delta"]),
            "incl. temporaries",
        ),
        (
            "open",
            f"{nat['open_s'] * 1e3:.2f} ms",
            f"{base['open_s'] * 1e3:.2f} ms",
            f"target < {TARGET_OPEN_S} s",
        ),
    ]
    for label, key in (("cold (disk)", "scrub_cold_s"), ("warm", "scrub_warm_s")):
        rows.append(
            (
                f"1M-lead scrub, {label}",
                f"{leads / nat[key] / 1e6:.1f} M/s",
                f"{leads / base[key] / 1e6:.1f} M/s",
                f"{leads / base[key] / pg_rate:.0f}x Postgres (10M)",
            )
        )
    rows += [
        (
            "single lookup `n in reg`",
            f"{nat['single_lookup_ns']:.0f} ns",
            f"{base['single_lookup_ns']:.0f} ns",
            "",
        ),
        (
            "single contains_e164",
            f"{nat['contains_e164_ns']:.0f} ns",
            f"{base['contains_e164_ns']:.0f} ns",
            "",
        ),
        ("hits in 1M leads", f"{nat['hits']:,}", f"{base['hits']:,}", f"Postgres: {pg['hits']:,}"),
        ("Postgres load (COPY + ANALYZE)", "", f"{pg['load_s']:.1f} s", ""),
        ("Postgres scrub (COPY + join)", "", f"{pg_rate / 1e6:.3f} M/s", f"{pg['scrub_s']:.2f} s"),
    ]
    warm_ratio = (leads / nat["scrub_warm_s"]) / pg_rate
    rows.append(
        ("national warm scrub vs Postgres (10M)", f"{warm_ratio:.0f}x", "", f"target >= {TARGET_RATIO:.0f}x")
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("metric", "national", "10M baseline", "note")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    checks = {
        "resident bytes/number <= 2": res_bpn <= TARGET_BYTES,
        "warm batch >= 10 M/s (national, one core)": leads / nat["scrub_warm_s"] >= TARGET_RATE,
        "open < 1 s": nat["open_s"] < TARGET_OPEN_S,
        ">= 50x Postgres": warm_ratio >= TARGET_RATIO,
        "hits agree with Postgres": base["hits"] == pg["hits"],
    }
    r["checks"] = checks
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


def _gib(n: int) -> str:
    return f"{n / 2**30:.3f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


if __name__ == "__main__":
    main()
