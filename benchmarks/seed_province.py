"""Seed a whole province (e.g. 160 schools, 700,000 records) fast, with COPY on PostgreSQL.

Rows are the same as `gradflow seed` writes (service.services.demo_data.build_rows): roster rows,
records at every status of the active process, their instances (the engine really run once per
status; that serialized state is reused for every instance at the status), pending tasks and one
keyed audit chain per record with its head, so `gradflow audit verify` passes afterwards.

Why COPY: executemany sends one INSERT per row (a round trip each through psycopg2, ~600 rows/s
at default durability); COPY streams a school's rows in a few statements. The instance trigger
that copies statuses onto `record` (m0003) is disabled for the load because the record rows are
written with those copies already filled in: otherwise every instance row would update its
record once more. Each school is one transaction, so an interrupted load leaves whole schools.
On SQLite this falls back to demo_data.seed_school for every school.

Usage: python benchmarks/seed_province.py --postgres-url postgresql://… [--schools 160]
         [--records 700000] [--big-school 20000]        (the database must be migrated or empty)
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.services.demo_data import SeedSummary  # noqa: E402

BIG_SCHOOL = ("10561", "华南理工大学")
CHUNK = 5000
COPY_SECONDS: dict[str, float] = {}  # server time per table, for the benchmark's breakdown
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def school_sizes(schools: int, records: int, big_school: int) -> list[int]:
    """Records per school: the first school has `big_school` (at most all), the rest share the others."""
    big = min(big_school, records)
    if schools == 1:
        return [records]
    rest, extra = divmod(records - big, schools - 1)
    return [big] + [rest + (1 if i < extra else 0) for i in range(schools - 1)]


def school_identity(index: int) -> tuple[str, str]:
    return BIG_SCHOOL if index == 0 else (f"{12000 + index:05d}", f"省属高校{index:03d}")


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(" ")
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:  # rare: scanning is cheaper than translating
        return text.translate(_ESCAPES)
    return text


def copy_rows(cursor: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY rows (dicts keyed by field name, or by a column that is not a model field) into model's table."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields.get(n) for n in names]
    columns = ", ".join(f'"{f.column_name if f is not None else n}"' for f, n in zip(fields, names, strict=True))
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(_copy_text(f.db_value(row[n]) if f is not None else row[n])
                            for f, n in zip(fields, names, strict=True)))
        buf.write("\n")
    buf.seek(0)
    t = time.perf_counter()
    cursor.copy_expert(f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN', buf)
    COPY_SECONDS[model._meta.table_name] = COPY_SECONDS.get(model._meta.table_name, 0.0) + time.perf_counter() - t


def _copy_school(code: str, name: str, students: int, seed: int, year: int) -> SeedSummary:
    from service.db import database, write_transaction
    from service.models import utcnow
    from service.services import demo_data

    summary = SeedSummary(code, 0, 0, 0, 0)
    with write_transaction():
        plan, gen, labels, weights, start = demo_data.prepare_school(
            code, name, seed=seed, colleges=5, majors=20, year=year, status_mix=None, summary=summary)
        cursor = database.cursor()
        cursor.execute("ALTER TABLE process_instance DISABLE TRIGGER process_instance_status_ins")
        now = utcnow()
        batch: list[Any] = []

        def flush() -> None:
            for model, rows in demo_data.build_rows(plan, batch, summary, now):
                copy_rows(cursor, model, rows)
            batch.clear()

        for st in gen.students(students, gen.structure(5, 20), start=start):
            batch.append((st, gen.rng.choices(labels, weights)[0]))
            if len(batch) >= CHUNK:
                flush()
        flush()
        cursor.execute("ALTER TABLE process_instance ENABLE TRIGGER process_instance_status_ins")
    return summary


def seed_province(schools: int, records: int, *, big_school: int = 20_000, seed: int = 1, year: int = 2021,
                  progress: Callable[[str], None] | None = None) -> list[SeedSummary]:
    """Seed `schools` schools holding about `records` records in all; returns each school's summary."""
    from service.db import database, is_sqlite
    from service.models import ProcessInstance, Record, RosterStudent
    from service.services import demo_data

    out: list[SeedSummary] = []
    started = time.perf_counter()
    for i, size in enumerate(school_sizes(schools, records, big_school)):
        code, name = school_identity(i)
        students = int(size / 0.99) + 1  # about 1 % of roster rows are ineligible (no record)
        if is_sqlite():
            summary = demo_data.seed_school(code, name, students=students, seed=seed + i, year=year)
        else:
            summary = _copy_school(code, name, students, seed + i, year)
        out.append(summary)
        if progress and (i % 10 == 0 or i == schools - 1):
            done = sum(s.records for s in out)
            progress(f"  {i + 1}/{schools} schools, {done:,} records, {time.perf_counter() - started:.0f} s")
    if not is_sqlite():
        demo_data._fix_sequences([RosterStudent, Record, ProcessInstance])
        # What autovacuum would do next: statistics, and the visibility map that lets counts and
        # pages be index-only scans (without it every index entry costs a heap visit).
        database.execute_sql("VACUUM ANALYZE")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres-url", required=True)
    ap.add_argument("--schools", type=int, default=160)
    ap.add_argument("--records", type=int, default=700_000)
    ap.add_argument("--big-school", type=int, default=20_000)
    args = ap.parse_args()
    from service.config import load_settings
    from service.db import bind_database, open_database
    from service.migrations import upgrade
    from service.services import audit, processes

    settings = load_settings(database_url=args.postgres_url)
    db = bind_database(open_database(args.postgres_url))
    audit.use_key(settings)
    upgrade(db)
    processes.ensure_configured_process(settings.process_path)
    t = time.perf_counter()
    summaries = seed_province(args.schools, args.records, big_school=args.big_school, progress=print)
    n = sum(s.records for s in summaries)
    elapsed = time.perf_counter() - t
    print(f"{len(summaries)} schools, {n:,} records in {elapsed:.0f} s ({n / elapsed:,.0f} records/s)")


if __name__ == "__main__":
    main()
