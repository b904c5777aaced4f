"""Time the roster import: a 20,000-row .xlsx (as Excel writes it) into a fresh database.

Runs: first import (all new), the same file again (all unchanged), and the file with 1% of the rows
edited (updated); the same for .csv. Prints one table with the time spent in each stage (读取 read,
校验 check, 写入 write; the remainder is pre-loading, the batch row and the audit event).
Usage: python benchmarks/roster_import.py [--rows 20000] [--postgres-url postgresql://…]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.config import load_settings  # noqa: E402
from service.db import bind_database, open_database  # noqa: E402
from service.migrations import upgrade  # noqa: E402
from service.services import processes, roster, schools  # noqa: E402
from service.services.actors import ADMIN_ROLE, Actor  # noqa: E402
from tests.support import roster_files as rf  # noqa: E402

ACTOR = Actor(username="bench", role=ADMIN_ROLE, school_code=None)


class Stages:
    """Progress callback that notes when each stage starts."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.started.setdefault(stage, time.perf_counter())


def run(data: bytes, name: str) -> tuple[float, dict[str, float], dict[str, int]]:
    stages = Stages()
    t0 = time.perf_counter()
    report = roster.import_roster(data, name, school_code="10561", year=2021, actor=ACTOR, progress=stages)
    total = time.perf_counter() - t0
    marks = sorted(stages.started.items(), key=lambda kv: kv[1])
    spans: dict[str, float] = {}
    for i, (stage, start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else t0 + total
        spans[stage] = end - (t0 if i == 0 else start)
    return total, spans, report.counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--postgres-url", default="")
    args = parser.parse_args()
    rows = rf.big_roster(args.rows)
    edited = [dict(r) for r in rows]
    for r in edited[:: 100]:
        r["班级"] = "转专业班"
    files = {"xlsx": (rf.xlsx_bytes(rows), rf.xlsx_bytes(edited)), "csv": (rf.csv_bytes(rows), rf.csv_bytes(edited))}
    engines = [("sqlite", None)] + ([("postgresql", args.postgres_url)] if args.postgres_url else [])
    print(f"{'db':10} {'file':5} {'run':10} {'rows':>6} {'total s':>8} {'read':>6} {'check':>6} {'write':>6}  outcome")
    for engine, url in engines:
        for kind, (first, changed) in files.items():
            with tempfile.TemporaryDirectory() as tmp:
                db_url = url or f"sqlite:///{tmp}/bench.db"
                settings = load_settings(environ={}, database_url=db_url)
                db = bind_database(open_database(settings.resolved_database_url))
                if url:
                    db.execute_sql("DROP TABLE IF EXISTS roster_import, roster_student, audit_event CASCADE")
                upgrade(db)
                processes.ensure_configured_process(settings.process_path)
                if schools.School.get_or_none(schools.School.code == "10561") is None:
                    schools.add_school("10561", "华南理工大学", actor=ACTOR)
                for label, data in (("first", first), ("same file", first), ("1% edited", changed)):
                    total, spans, counts = run(data, f"roster.{kind}")
                    outcome = ", ".join(f"{k} {v}" for k, v in counts.items() if v and k != "total")
                    print(f"{engine:10} {kind:5} {label:10} {counts['total']:>6} {total:>8.2f} "
                          f"{spans.get('读取', 0):>6.2f} {spans.get('校验', 0):>6.2f} {spans.get('写入', 0):>6.2f}  {outcome}")
                db.close()


if __name__ == "__main__":
    main()
