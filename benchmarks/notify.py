"""What notifications cost: outbox throughput to a local SMTP server, and the added cost per review
transition, as a ratio to the same transition with the notification hook switched off.

  raw_engine        SpiffWorkflow alone: submit then reject, in memory (the floor, for the ratio rule)
  reject_no_notify  gradflow submit → reject on SQLite with the notification hook disabled
  reject_notify     the same with notifications on: in-app row + e-mail and webhook outbox rows
  outbox            enqueued messages delivered by the sender to a local aiosmtpd server

Each mode runs in its own subprocess on a fresh SQLite file; modes alternate for --rounds rounds
and the best round of each is kept (these machines are noisy).
Usage: python benchmarks/notify.py --records 1000 --messages 2000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BPMN = ROOT / "bpmn" / "graduate_report.bpmn"
SECRET = "benchmark-secret-key-" + "x" * 32


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
    store = {}
    for i in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        store[i] = serializer.serialize_json(wf)
    start = time.perf_counter()
    for decision in (None, "reject"):
        for i in range(n):
            wf = serializer.deserialize_json(store[i])
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            if decision:
                task.data.update(decision=decision, comment="请补充")
            task.run()
            wf.do_engine_steps()
            store[i] = serializer.serialize_json(wf)
    return {"seconds": time.perf_counter() - start, "count": 2 * n}


def _setup(url: str, smtp_port: int):  # type: ignore[no-untyped-def]
    from service.config import load_settings
    from service.db import bind_database, open_database
    from service.migrations import upgrade
    from service.services import audit, notify, processes

    settings = load_settings(environ={}, database_url=url, secret_key=SECRET, notify_worker=False,
                             smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_sender="noreply@example.edu.cn",
                             webhook_url="http://127.0.0.1:9/unused", webhook_secret="w" * 32,
                             notify_quiet_hours="", notify_digest_hour=24)
    db = bind_database(open_database(url))
    upgrade(db)
    audit.use_key(settings)
    notify.configure(settings)
    processes.ensure_configured_process(BPMN)
    return settings, db


def _records(n: int) -> list[int]:
    from service.db import write_transaction
    from service.models import College, Major, Record, School
    from service.services.actors import Actor
    from service.services.transitions import start_instance

    school = School.create(code="10561", name="华南理工大学")
    college = College.create(school=school, name="计算机学院")
    major = Major.create(school=school, college=college, code="080901", name="计算机科学与技术")
    ids = []
    for i in range(n):
        with write_transaction():
            rec = Record.create(school=school, college=college, major=major, student_no=f"2017{i:06d}", name="张三",
                                data={"other": {"email": f"s{i}@example.edu.cn", "phone": "13800138000"}})
            start_instance(rec, Actor("importer", "system", school.code))
        ids.append(rec.id)
    return ids


def run_reject(n: int, url: str, notify_on: bool) -> dict:
    from service.services import processes
    from service.services.actors import Actor
    from service.services.notify import events
    from service.services.transitions import complete_task

    _setup(url, 25)
    if not notify_on:  # the benchmark's baseline only: the same step without the notification hook
        events.after_review = lambda *a, **k: None  # type: ignore[assignment]
    ids = _records(n)
    first = processes.active_definition()[1].reviewer_roles[0]
    reviewer = Actor("counselor1", first, "10561")
    start = time.perf_counter()
    for rid in ids:
        complete_task(rid, Actor(f"s{rid}", "student", "10561", record_id=rid))
    for rid in ids:
        complete_task(rid, reviewer, decision="reject", comment="请补充家庭地址")
    return {"seconds": time.perf_counter() - start, "count": 2 * n}


def run_outbox(n: int, url: str) -> dict:
    from aiosmtpd.controller import Controller

    from service.db import write_transaction
    from service.models import Delivery
    from service.services.notify import outbox, sender
    from tests.support.notify_servers import _Collector, free_port

    port = free_port()
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings, _ = _setup(url, port)
    from dataclasses import replace

    settings = replace(settings, webhook_url="")
    outbox.configure(settings)
    ids = _records(1)
    with write_transaction():
        for i in range(n):
            outbox.enqueue("reminder", outbox.Recipient(school="10561", name=f"学生{i}", recipient=f"2017{i:06d}",
                                                        record_id=ids[0], email=f"s{i}@example.edu.cn"),
                           {"状态": "未提交"})
    start = time.perf_counter()
    while Delivery.select().where(Delivery.status == "sent").count() < n:
        sender.run_once(settings)
    seconds = time.perf_counter() - start
    controller.stop()
    assert len({m["Message-ID"] for m in collector.messages}) == n
    return {"seconds": seconds, "count": n}


def child(mode: str, n: int, url: str) -> None:
    if mode == "raw_engine":
        print(json.dumps(run_raw(n)))
    elif mode == "outbox":
        print(json.dumps(run_outbox(n, url)))
    else:
        print(json.dumps(run_reject(n, url, notify_on=mode == "reject_notify")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.n, args.url)
        return
    tmp = tempfile.TemporaryDirectory(prefix="gradflow-bench-notify-")
    modes = [("raw_engine", args.records), ("reject_no_notify", args.records), ("reject_notify", args.records),
             ("outbox", args.messages)]
    best: dict[str, dict] = {}
    for round_no in range(args.rounds):
        for mode, n in modes:
            url = f"sqlite:///{tmp.name}/{mode}-{round_no}.db"
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--n", str(n), "--url", url],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            if mode not in best or run["seconds"] < best[mode]["seconds"]:
                best[mode] = run
    print(f"records: {args.records} (submit + reject each), messages: {args.messages}, SQLite, "
          f"best of {args.rounds} alternating rounds")
    header = f"{'mode':18} {'per second':>11} {'ms each':>9}"
    print(header)
    print("-" * len(header))
    for mode, r in best.items():
        rate = r["count"] / r["seconds"]
        r["ms"] = 1000 * r["seconds"] / r["count"]
        unit = "messages" if mode == "outbox" else "transitions"
        print(f"{mode:18} {rate:11.0f} {r['ms']:9.3f}  {unit}")
    added = best["reject_notify"]["ms"] - best["reject_no_notify"]["ms"]
    print(f"added ms per transition with notifications: {added:.3f} "
          f"(ratio reject_notify/reject_no_notify: {best['reject_notify']['ms'] / best['reject_no_notify']['ms']:.2f})")
    print(f"ratio reject_notify/raw_engine (time per transition): "
          f"{best['reject_notify']['ms'] / best['raw_engine']['ms']:.2f}")


if __name__ == "__main__":
    main()
