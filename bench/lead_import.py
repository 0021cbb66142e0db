"""Lead import rate on PostgreSQL against COPY of the same file, measured in the same run.

Generates a synthetic lead CSV (the columns of ``leads.example.csv``: names, company, email,
phone in mixed formats, state, ZIP, PEWC consent columns; about 1 % duplicate numbers and 0.5 %
bad phones), imports it into a fresh, migrated database through ``dialer.leads.import_leads``
(the code ``dialer leads import`` runs: parse on a process pool, fold, DNC scrub, COPY of leads
and consent records, one audit event, commit), then COPYs the same file into a table of the
same columns (the baseline). Prints both rates, their ratio (target: at least 1/3), the peak
resident memory of the importing process tree (main process + workers, sampled from /proc), and
where the import's time goes: CPU microseconds per row of the parser pool (its reaped children),
of the importing process (all its threads: reading, pickling to and from the pool, folding,
COPY formatting) and of the PostgreSQL backend serving the import (from /proc, when the server
is local), the wall time those allow on this machine's cores, and the machine's load average
(other jobs take cores from all of these, not from the baseline alone).

    .venv/bin/python bench/lead_import.py               # 1,000,000 rows
    .venv/bin/python bench/lead_import.py --rows 50000  # quick mode (< 1 minute)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import text

from dialer.db import make_engine, session_factory, transaction
from dialer.leads import import_leads
from dialer.migrate import upgrade
from dialer.models import Campaign

HEADER = (
    "first_name,last_name,company,title,email,phone,state,zip,industry,consent_type,consent_at,"
    "consent_seller,consent_artificial_voice,consent_evidence,consent_revoked_at"
).split(",")
SELLER = "Northwind Analytics, Inc."
AREA_CODES = (
    "201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 "
    "240 248 251 252 253 254 256 260 262 267 269 270 272 276 281 301 302 303 304 305 307 308 309 310 "
    "312 313 314 315 316 317 318 319 320 321 323 325 330 331 334 336 337 339 346 347 351 352 360 361 "
    "385 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 424 425 430 432 434 435 "
    "440 442 443 458 469 470 475 478 479 480 484 501 502 503 504 505 507 508 509 510 512 513 515 516 "
    "517 518 520 530 539 540 541 551 559 561 562 563 567 570 571 573 574 575 580 585 586 601 602 603 "
    "605 606 607 608 609 610 612 614 615 616 617 618 619 620 623 626 630 631 636 641 646 650 651 657 "
    "660 661 662 667 678 682 701 702 703 704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 "
    "731 732 734 737 740 747 754 757 760 762 763 765 769 770 772 773 774 775 779 781 785 786 801 802 "
    "803 804 805 806 808 810 812 813 814 815 816 817 818 828 830 831 832 843 845 847 848 850 856 857 "
    "858 859 860 862 863 864 865 870 872 878 901 903 904 906 907 908 909 910 912 913 914 915 916 917 "
    "918 919 920 925 928 929 931 936 937 938 940 941 947 949 951 952 954 956 959 970 971 972 973 978 "
    "979 980 984 985 989"
).split()
FORMATS = ("({a}) {b}-{c}", "{a}-{b}-{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}", "1{a}{b}{c}")


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write a synthetic lead file of ``rows`` data rows (streamed; nothing held)."""
    rng = random.Random(seed)
    numbers: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            roll = rng.random()
            if roll < 0.005:
                phone = f"911-555-{i % 10000:04d}"  # invalid area code: rejected
            elif roll < 0.015 and numbers:
                phone = rng.choice(numbers)  # a duplicate: folded
            else:
                area = rng.choice(AREA_CODES)
                phone = rng.choice(FORMATS).format(
                    a=area, b=f"{rng.randint(200, 999)}", c=f"{rng.randint(0, 9999):04d}"
                )
                if len(numbers) < 1000:
                    numbers.append(phone)
            writer.writerow(
                [
                    f"First{i}",
                    f"Last{i}",
                    f"Company {i % 9973}",
                    "VP Operations",
                    f"lead{i}@company{i % 9973}.example",
                    phone,
                    "IL",
                    f"{60000 + i % 1000}",
                    "logistics",
                    "pewc",
                    "2026-10-02T15:04:00Z",
                    SELLER,
                    "yes",
                    f"https://northwind.example/optin/{i:x}",
                    "",
                ]
            )


class PeakRss:
    """Samples the resident memory of this process and all its descendants (Linux /proc)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree(pid: int) -> list[int]:
        found = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.extend(PeakRss._tree(int(child)))
        return found

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(self._rss(pid) for pid in self._tree(os.getpid()))
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def backend_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of a local PostgreSQL backend process, from /proc; None if not local."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (the parser pool, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows (quick mode: 50000)")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("DIALER_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--workers", type=int, default=None, help="parser processes (default: one per core)")
    args = parser.parse_args()

    name = f"dialer_bench_import_{uuid.uuid4().hex[:8]}"
    base = args.pg_admin_url.rsplit("/", 1)[0]
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "leads.csv"
            started = time.perf_counter()
            generate(path, args.rows)
            size_mb = path.stat().st_size / 1e6
            print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
            upgrade(url)
            engine = make_engine(url)
            factory = session_factory(engine)
            with transaction(factory) as session:
                session.add(
                    Campaign(
                        name="bench",
                        seller_name=SELLER,
                        caller_id="+13125550199",
                        callback_number="+13125550199",
                    )
                )
            workers = args.workers
            load_before = os.getloadavg()[0]
            with PeakRss() as rss:
                started = time.perf_counter()
                main_cpu = time.process_time()
                pool_cpu = children_cpu_s()
                with transaction(factory) as session:
                    backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                    backend_cpu = backend_cpu_s(backend)
                    result = import_leads(
                        session,
                        campaign_name="bench",
                        path=path,
                        attested_by="bench",
                        now=datetime.now(UTC),
                        workers=workers,
                    )
                    backend_end = backend_cpu_s(backend)
                imported_s = time.perf_counter() - started
                main_cpu = time.process_time() - main_cpu
                pool_cpu = children_cpu_s() - pool_cpu
            load_after = os.getloadavg()[0]
            engine.dispose()

            with psycopg.connect(f"{base}/{name}") as conn:
                cols = ", ".join(f'"{c}" text' for c in HEADER)
                conn.execute(f"CREATE TABLE copy_baseline ({cols})")
                conn.commit()
                started = time.perf_counter()
                with conn.cursor() as cur, path.open("rb") as f:
                    with cur.copy("COPY copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                        while block := f.read(1 << 20):
                            copy.write(block)
                conn.commit()
                copy_s = time.perf_counter() - started
                plan = conn.execute(
                    "EXPLAIN SELECT phone_e164, id FROM leads WHERE campaign_id = 1 AND phone_e164 = ANY(%s)",
                    (["+13125550101", "+12125550102"],),
                ).fetchall()

        rows = result.data_rows
        import_rate = rows / imported_s
        copy_rate = args.rows / copy_s
        print(
            f"import: {rows:,} rows in {imported_s:.1f} s = {import_rate:,.0f} rows/s "
            f"({result.leads_created:,} leads, {result.consents_created:,} consent records, "
            f"{result.rejected_count:,} rejected, {result.folded_count:,} duplicates folded)"
        )
        print(f"baseline COPY of the same file: {copy_s:.1f} s = {copy_rate:,.0f} rows/s")
        ratio = import_rate / copy_rate
        print(f"ratio import/COPY: {ratio:.2f} (target >= 0.33: {'met' if ratio >= 1 / 3 else 'NOT met'})")
        print(
            f"peak RSS of the import (main process + workers): {rss.peak / 2**20:,.0f} MiB (limit 1024 MiB)"
        )
        per_row = 1e6 / rows
        backend_s = backend_end - backend_cpu if backend_cpu is not None and backend_end is not None else None
        stages = [("parse workers", pool_cpu), ("importing process (all threads)", main_cpu)]
        if backend_s is not None:
            stages.append(("PostgreSQL backend", backend_s))
        total_cpu = sum(s for _, s in stages)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        print(
            "where the time goes (CPU us/row): "
            + ", ".join(f"{label} {s * per_row:.0f}" for label, s in stages)
            + f"; total {total_cpu * per_row:.0f} us/row of CPU"
            f" = at best {total_cpu * per_row / cores:.0f} us/row wall on {cores} cores"
            f" ({rows * cores / total_cpu:,.0f} rows/s); measured wall"
            f" {imported_s * per_row:.0f} us/row; machine load (1-min) {load_before:.1f} -> {load_after:.1f}"
        )
        print("dedupe lookup plan: " + " / ".join(line for (line,) in plan))
    finally:
        with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
