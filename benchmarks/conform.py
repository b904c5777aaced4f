"""`gradflow audit conform` on a whole database: time, peak memory, and the engine path it avoids.

Runs the conformance check (service.services.conformance) over every record of an existing database
(seed one first: `benchmarks/seed_province.py --postgres-url URL`, which takes a SQLite URL too), in
a child process so its peak RSS is its own. For comparison, in the same run, the engine path it
does not take: restoring each instance in SpiffWorkflow to read its READY tasks (timed on a sample
of --sample instances and scaled to the record count). The audit key must be the one the chains were
written with (GRADFLOW_AUDIT_KEY or GRADFLOW_SECRET_KEY), as for `gradflow audit verify`.

Usage: python benchmarks/conform.py --database-url postgresql://… [--school 10561] [--sample 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 120
TARGET_RSS_MB = 500


def _bind(url: str) -> None:
    from service.config import load_settings
    from service.db import bind_database, open_database
    from service.services import audit

    audit.use_key(load_settings(database_url=url))
    bind_database(open_database(url))


def child_conform(url: str, school: str | None) -> dict:
    from service.services.conformance.run import conform

    _bind(url)
    result = conform(school=school, keep=20)
    return {"records": result.records, "events": result.events, "nonconforming": result.nonconforming,
            "by_kind": dict(result.by_kind), "seconds": result.seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "examples": [f.message for f in result.findings[:3]]}


def child_engine(url: str, sample: int) -> dict:
    """The engine path on a sample: load each instance's state into SpiffWorkflow, list READY tasks."""
    from service.models import ProcessInstance
    from service.services import processes
    from service.workflow import engine

    _bind(url)
    rows = list(ProcessInstance.select(ProcessInstance.version, ProcessInstance.state)
                .order_by(ProcessInstance.id).limit(sample).tuples())
    definitions = {vid: processes.definition(vid) for vid in {v for v, _ in rows}}
    started = time.perf_counter()
    for vid, state in rows:
        d = definitions[vid]
        engine.pending(d, engine.load(d, state))
    return {"sample": len(rows), "seconds": time.perf_counter() - started}


def _run_child(mode: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--database-url", args.database_url,
           "--sample", str(args.sample)] + (["--school", args.school] if args.school else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--school", default=None)
    ap.add_argument("--sample", type=int, default=2000, help="instances restored in the engine for the comparison")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "conform":
        print(json.dumps(child_conform(args.database_url, args.school)))
        return
    if args.child == "engine":
        print(json.dumps(child_engine(args.database_url, args.sample)))
        return
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    result = _run_child("conform", args)
    eng = _run_child("engine", args)
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    per_record_engine = eng["seconds"] / max(eng["sample"], 1)
    engine_total = per_record_engine * result["records"]
    db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"\ngradflow audit conform, {db}, {'school ' + args.school if args.school else 'every school'}")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| records / events checked | {result['records']:,} / {result['events']:,} | |")
    print(f"| wall time | {result['seconds']:.1f} s ({result['records'] / max(result['seconds'], 1e-9):,.0f} records/s)"
          f" | < {TARGET_SECONDS} s {'OK' if result['seconds'] < TARGET_SECONDS else 'MISSED'} |")
    print(f"| peak RSS | {result['peak_rss_mb']:.0f} MiB | < {TARGET_RSS_MB} MB "
          f"{'OK' if result['peak_rss_mb'] < TARGET_RSS_MB else 'MISSED'} |")
    print(f"| records not conforming | {result['nonconforming']:,} {result['by_kind'] or ''} | |")
    print(f"| engine path: restore every instance in SpiffWorkflow (from {eng['sample']:,} sampled) | "
          f"{per_record_engine * 1e6:.0f} µs/record → {engine_total:.0f} s for all | |")
    print(f"| ratio engine path / conform | {engine_total / max(result['seconds'], 1e-9):.1f} | |")
    print(f"\nload average before: {load_before}, after: {load_after}")
    for message in result["examples"]:
        print(f"  e.g. {message}")


if __name__ == "__main__":
    main()
