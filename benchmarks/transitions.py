"""Push N instances through submit → approve → approve, three ways, and print one table.

  raw_engine       SpiffWorkflow alone, in process: spec embedded in every serialized instance,
                   no database (the floor gradflow is compared with)
  gradflow_sqlite  gradflow's transition service on a SQLite file (WAL), one transaction per step
  gradflow_pg      the same on PostgreSQL, when --postgres-url is given
  gradflow_pg_durable / gradflow_pg_async
                   the same on a throwaway cluster this script starts itself (--postgres durable:
                   fsync and synchronous_commit on, PostgreSQL's defaults; --postgres async:
                   synchronous_commit=off, the durability class of SQLite's WAL + synchronous=NORMAL)

Each mode runs in its own subprocess so its peak RSS is its own. Work is done phase by phase (all
submits, then all first-level approvals, then all final approvals), as a real deadline would.
transitions/s counts the three steps only; creating the instances (and, for gradflow, their
records) is timed separately. These machines are noisy, so the modes run alternately for
--rounds rounds and each mode's best round is reported (the ratio compares best with best).
Usage: python benchmarks/transitions.py --instances 2000 [--rounds 3] [--postgres-url postgresql://…]
       python benchmarks/transitions.py --instances 2000 --postgres durable --postgres async
The machine's load average is printed before and after (2 shared cores: read ratios, not rates).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BPMN = ROOT / "bpmn" / "graduate_report.bpmn"
STEPS_PER_INSTANCE = 3


def run_raw(n: int) -> dict:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec("graduate_report")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    store: dict[int, str] = {}
    start = time.perf_counter()
    for i in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        store[i] = serializer.serialize_json(wf)
    created = time.perf_counter()
    for decision in (None, "approve", "approve"):
        for i in range(n):
            wf = serializer.deserialize_json(store[i])
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            if decision:
                task.data["decision"] = decision
            task.run()
            wf.do_engine_steps()
            store[i] = serializer.serialize_json(wf)
    done = time.perf_counter()
    assert all(serializer.deserialize_json(s).completed for s in list(store.values())[:10])
    return {"create_s": created - start, "transitions_s": done - created, "bytes_per_instance":
            sum(len(s) for s in store.values()) / n}


def run_gradflow(n: int, url: str) -> dict:
    os.environ.setdefault("GRADFLOW_AUDIT_KEY", "benchmark-only-audit-key-" + "x" * 32)  # chains need a key
    from service.db import bind_database, open_database, write_transaction
    from service.migrations import upgrade
    from service.models import College, Major, ProcessInstance, Record, School
    from service.services import processes
    from service.services.actors import Actor
    from service.services.transitions import complete_task, start_instance

    db = bind_database(open_database(url))
    upgrade(db)
    processes.ensure_configured_process(BPMN)
    school = School.create(code="10561", name="华南理工大学")
    college = College.create(school=school, name="计算机学院")
    major = Major.create(school=school, college=college, code="080901", name="计算机科学与技术")
    system = Actor("importer", "system", school.code)
    counselor = Actor("counselor1", "counselor", school.code)
    centre = Actor("centre1", "centre", school.code)
    start = time.perf_counter()
    ids = []
    for i in range(n):
        with write_transaction():
            rec = Record.create(school=school, college=college, major=major, student_no=f"2017{i:06d}", name="张三")
            start_instance(rec, system)
        ids.append(rec.id)
    created = time.perf_counter()
    for rid in ids:
        complete_task(rid, Actor(f"s{rid}", "student", school.code, record_id=rid))
    for rid in ids:
        complete_task(rid, counselor, decision="approve")
    for rid in ids:
        complete_task(rid, centre, decision="approve")
    done = time.perf_counter()
    assert ProcessInstance.select().where(ProcessInstance.completed == True).count() == n  # noqa: E712
    size = sum(len(s) for (s,) in ProcessInstance.select(ProcessInstance.state).tuples()) / n
    db.close()
    return {"create_s": created - start, "transitions_s": done - created, "bytes_per_instance": size}


def child(mode: str, n: int, url: str | None) -> None:
    result = run_raw(n) if mode == "raw_engine" else run_gradflow(n, url or "")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best round per mode is kept")
    ap.add_argument("--postgres-url", default=None, help="a database URL to run gradflow_pg against (emptied first)")
    ap.add_argument("--postgres", action="append", choices=["durable", "async"], default=[],
                    help="start a throwaway cluster (durable: default durability; async: synchronous_commit=off)"
                         " and run gradflow_pg_<kind> on it; repeatable")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.instances, args.url)
        return

    modes: list[tuple[str, str | None]] = [("raw_engine", None)]
    tmp = tempfile.TemporaryDirectory(prefix="gradflow-bench-")
    modes.append(("gradflow_sqlite", None))  # a fresh file per round
    if args.postgres_url:
        modes.append(("gradflow_pg", args.postgres_url))
    clusters = []
    try:
        for kind in dict.fromkeys(args.postgres):
            from tests.support.postgres import ThrowawayCluster

            cluster = ThrowawayCluster(durable=True, synchronous_commit=(kind == "durable"))
            clusters.append(cluster)
            modes.append((f"gradflow_pg_{kind}", cluster.start()))
        _run(args, modes, tmp.name)
    finally:
        for cluster in clusters:
            cluster.stop()


def _run(args: argparse.Namespace, modes: list[tuple[str, str | None]], tmp: str) -> None:
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    for round_no in range(args.rounds):
        for mode, url in modes:
            if mode.startswith("gradflow_pg") and url:
                _reset_postgres(url)
            if mode == "gradflow_sqlite":
                url = f"sqlite:///{tmp}/bench-{round_no}.db"
            cmd = [sys.executable, __file__, "--child", mode, "--instances", str(args.instances)]
            if url:
                cmd += ["--url", url]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            if mode not in results or run["transitions_s"] < results[mode]["transitions_s"]:
                results[mode] = run

    n = args.instances
    print(f"instances: {n}, transitions per instance: {STEPS_PER_INSTANCE} (submit, approve, approve), "
          f"best of {args.rounds} alternating rounds")
    header = (f"{'mode':16} {'transitions/s':>13} {'ms/transition':>13} {'create ms/inst':>14} "
              f"{'state bytes':>11} {'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for mode, r in results.items():
        tps = n * STEPS_PER_INSTANCE / r["transitions_s"]
        r["tps"] = tps
        print(f"{mode:16} {tps:13.0f} {1000 / tps:13.3f} {1000 * r['create_s'] / n:14.3f} "
              f"{r['bytes_per_instance']:11.0f} {r['peak_rss_mb']:11.1f}")
    print("(gradflow's create includes inserting the record row; raw_engine's state embeds the spec)")
    for mode in results:
        if mode != "raw_engine":
            print(f"ratio {mode}/raw_engine: {results[mode]['tps'] / results['raw_engine']['tps']:.2f}")
    load_after = os.getloadavg()
    print("load average before: " + " ".join(f"{x:.2f}" for x in load_before)
          + ", after: " + " ".join(f"{x:.2f}" for x in load_after) + " (1, 5, 15 min)")


def _reset_postgres(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


if __name__ == "__main__":
    main()
