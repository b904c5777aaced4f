"""The province's view (省级) on many schools: overview, one school's colleges, the exports.

Seeds --schools schools of --students roster students each (service.services.demo_data.seed_school,
statuses mixed over the whole process), then through the Flask test client as the province:
  overview   the service counting every time (max_age 0), then GET /api/v1/province/schools with
             the counts kept province_counts_seconds (default 30 s): p50/p95, query counts
  baseline   the same figures the naive way, measured in the same run: the centre's dashboard
             query (progress.school_progress) once per school, N schools → N × 3 queries
  school     GET /api/v1/province/schools/{code}, p50/p95
  export     GET /api/v1/province/export.xlsx (every school's completed records) and ?school= one,
             each in a fresh subprocess, so its peak RSS (VmHWM) is the export's own

Usage: python benchmarks/province.py [--schools 20] [--students 1000] [--requests 50]
                                     [--postgres-url postgresql://… | --postgres]  (emptied first)
--postgres starts a throwaway cluster with default durability (tests/support/postgres.py).
--reuse with --postgres-url measures a province another run built as it is, e.g. after
`benchmarks/review.py --postgres-url URL --schools 160 --records 700000` (no reset, no seeding).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from review import pct, stream_to, vm_hwm_mib  # noqa: E402

PROVINCE = "province"


def make_app(url: str, instance_dir: Path) -> Any:
    """The app without its background notify sender (it would compete with the seeding for the file)."""
    from service import create_app
    from service.config import load_settings

    settings = load_settings(environ={}, database_url=url, instance_path=str(instance_dir),
                             secret_key="bench-secret-" + "z" * 32, log_level="WARNING", notify_worker=False)
    app = create_app(settings)
    for name in ("spiff", "fontTools", "gradflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app, settings


def export_child(url: str, out: Path, school: str) -> None:
    """Run in a subprocess: one province export streamed to a file; print JSON."""
    app, _ = make_app(url, out.parent)
    client = _login_province(app)
    base = vm_hwm_mib()
    t = time.perf_counter()
    r = client.get("/api/v1/province/export.xlsx" + (f"?school={school}" if school else ""))
    assert r.status_code == 200, r.status_code
    size, first = stream_to(r, out, t)
    elapsed = time.perf_counter() - t
    print(json.dumps({"s": elapsed, "first_byte_s": first or elapsed, "bytes": size, "rows": int(r.headers["X-Export-Rows"]),
                      "rss_before_mib": base, "rss_mib": vm_hwm_mib()}))


def _login_province(app: Any) -> Any:
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": PROVINCE, "password": "bench-password-1",
                                                 "school_code": ""})
    assert r.status_code == 200, r.get_json()
    return client


def _timed(client: Any, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return out


def _queries(call: Any) -> int:
    count = 0

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            nonlocal count
            count += 1

    logger = logging.getLogger("peewee")
    handler, level, propagate = Counter(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        call()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    return count


def run(args: argparse.Namespace, url: str, folder: Path) -> None:
    from peewee import fn

    from service.db import database
    from service.migrations import upgrade
    from service.models import Record, User
    from service.services import accounts, demo_data, processes, progress
    from service.services.actors import Actor

    app, settings = make_app(url, folder / "instance")
    print(f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite file'}", flush=True)
    upgrade(database.obj)
    processes.ensure_configured_process(settings.process_path)
    t = time.perf_counter()
    if args.reuse:  # a province another benchmark seeded (review.py --schools 160 --records 700000)
        from service.models import School

        codes = [c for (c,) in School.select(School.code).order_by(School.code).tuples()]
        biggest = Record.select(Record.school).group_by(Record.school).order_by(fn.COUNT(Record.id).desc()).scalar()
        codes.sort(key=lambda c: c != biggest)  # drill down into and export the biggest school
        args.schools = len(codes)
    else:
        codes = [str(20000 + i) for i in range(args.schools)]
        for i, code in enumerate(codes):
            demo_data.seed_school(code, f"示范大学{i + 1}", students=args.students, seed=i + 1, colleges=5,
                                  majors=10, year=settings.graduation_year)
    if not User.select().where(User.username == PROVINCE).exists():  # a reused database may have it
        accounts.create_user(PROVINCE, "bench-password-1", "province", school_code=None, creator=None)
    seeded = Record.select().count()
    seed_s = time.perf_counter() - t
    print(f"{'found' if args.reuse else 'seeded'} {args.schools} schools, {seeded:,} records in {seed_s:.1f} s",
          flush=True)
    client = _login_province(app)

    rows: list[tuple[str, str, str]] = []
    from service.services import province
    from service.services.deadlines import store as deadline_store

    def counting() -> None:
        province.overview(graduation_year=settings.graduation_year,
                          default_deadline=deadline_store.default_deadline(settings), max_age=0)

    counting()  # warm the definition cache
    counted = []
    for _ in range(args.requests):
        t = time.perf_counter()
        counting()
        counted.append((time.perf_counter() - t) * 1000)
    rows.append(("overview, counting every time (max_age 0)",
                 f"p50 {pct(counted, 50):.1f} ms, p95 {pct(counted, 95):.1f} ms",
                 f"{_queries(counting)} queries for {args.schools} schools"))
    over = _timed(client, "/api/v1/province/schools", args.requests)
    over_q = _queries(lambda: client.get("/api/v1/province/schools"))
    rows.append((f"GET /province/schools (counts kept {settings.province_counts_seconds:g} s)",
                 f"p50 {pct(over, 50):.1f} ms, p95 {pct(over, 95):.1f} ms",
                 f"{over_q} queries per request (session included)"))

    statuses = list(processes.active_definition()[1].statuses)

    def naive() -> None:
        for code in codes:
            progress.school_progress(Actor(PROVINCE, "province", code), statuses, settings.graduation_year)

    naive_ms = []
    for _ in range(max(3, args.requests // 10)):
        t = time.perf_counter()
        naive()
        naive_ms.append((time.perf_counter() - t) * 1000)
    naive_q = _queries(naive)
    rows.append(("  baseline: dashboard query per school", f"p50 {pct(naive_ms, 50):.1f} ms",
                 f"{naive_q} queries (counting overview/baseline = {pct(counted, 50) / pct(naive_ms, 50):.2f})"))
    one = _timed(client, f"/api/v1/province/schools/{codes[0]}", args.requests)
    rows.append(("GET /province/schools/{code}", f"p50 {pct(one, 50):.1f} ms, p95 {pct(one, 95):.1f} ms",
                 f"{Record.select().where(Record.school == codes[0]).count():,} records"))

    database.close()
    for label, school in (("export, one school", codes[0]), ("export, every school", "")):
        out = folder / f"export-{school or 'all'}.xlsx"
        child = subprocess.run([sys.executable, __file__, "--export-child", url, str(out), school],
                               capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(child.stderr[-3000:], file=sys.stderr)
            raise SystemExit("export failed")
        exp = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append((f"GET /province/export.xlsx ({label})",
                     f"{exp['rows']:,} rows, {exp['bytes'] / 2**20:.1f} MiB in {exp['s']:.1f} s "
                     f"({exp['rows'] / max(exp['s'], 1e-9):,.0f} rows/s, first byte {exp['first_byte_s'] * 1000:.0f} ms)",
                     f"peak RSS {exp['rss_mib']:.0f} MiB (app alone {exp['rss_before_mib']:.0f})"))
    print()
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--postgres-url", default=None, help="run on this PostgreSQL database (emptied first)")
    ap.add_argument("--postgres", action="store_true", help="start a throwaway durable PostgreSQL cluster")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the database at --postgres-url as it is (no reset, no seeding)")
    ap.add_argument("--export-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.export_child:
        export_child(args.export_child[0], Path(args.export_child[1]), args.export_child[2])
        return
    folder = Path(tempfile.mkdtemp(prefix="gradflow-province-"))
    cluster = None
    url = f"sqlite:///{folder / 'province.db'}"
    try:
        if args.postgres:
            from tests.support import postgres

            cluster = postgres.ThrowawayCluster(durable=True)
            url = postgres.create_database(cluster.start())
        elif args.postgres_url:
            from transitions import _reset_postgres

            if not args.reuse:
                _reset_postgres(args.postgres_url)
            url = args.postgres_url
        run(args, url, folder)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
