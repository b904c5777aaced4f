"""16 clients reviewing over HTTP against gunicorn with 1 and with 2 workers on PostgreSQL.

Starts a durable throwaway PostgreSQL cluster (fsync and synchronous_commit on; or uses
--postgres-url, emptied first), seeds one demo school, then for each worker count starts
`gunicorn -w N` and lets --clients threads, each logged in as a first-level reviewer with its own
session and keep-alive connection, approve their own share of the records waiting at that level
for --seconds. Reported per worker count: accepted transitions/s, 5xx count, and whether every
accepted review has exactly one audit event (no lost update, no double write); at the end
`gradflow audit verify` runs on the whole database. The runs alternate (1, 2, 1, 2 … for
--rounds) and the best round of each is kept, as the machine is shared and noisy; `uptime` is
printed before and after.

Usage: python benchmarks/concurrency.py [--clients 16] [--seconds 10] [--rounds 2] [--students 8000]
                                         [--postgres-url postgresql://…] [--worker-class sync]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# This folder holds http.py, which must not stand in for the standard library's http.
sys.path[:] = [str(ROOT), *[p for p in sys.path if Path(p or ".").resolve() != HERE]]

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from benchmarks.http import SECRET, Client, seed  # noqa: E402
from tests.support.gunicorn import Gunicorn, gunicorn_env  # noqa: E402

TARGET_RATIO = 1.6


@dataclass
class RunResult:
    workers: int
    accepted: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    events: int = 0
    reviewed: list[int] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def review_events(url: str, since_id: int) -> tuple[int, list[int]]:
    """(largest audit event id, record ids of review events after since_id)."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM audit_event")
        top = int(cur.fetchone()[0])
        cur.execute("SELECT record_id FROM audit_event WHERE id > %s AND action = 'review' ORDER BY id", (since_id,))
        ids = [int(r[0]) for r in cur.fetchall()]
    conn.close()
    return top, ids


def one_run(url: str, folder: Path, workers: int, args: argparse.Namespace, username: str,
            queue: list[int], worker_class: str) -> RunResult:
    result = RunResult(workers)
    start_id, _ = review_events(url, 0)
    env = gunicorn_env(database_url=url, instance_path=str(folder), secret_key=SECRET, log_level="WARNING",
                       session_cookie_secure="false")
    lock = threading.Lock()
    with Gunicorn(env, workers=workers, worker_class=worker_class, log=folder / f"gunicorn-{workers}.log") as server:
        clients = [Client(server.port) for _ in range(args.clients)]
        for c in clients:
            c.login(username)
        shares = [queue[i::args.clients] for i in range(args.clients)]
        go = threading.Barrier(args.clients + 1)
        stop_at: list[float] = []

        def work(client: Client, share: list[int]) -> None:
            go.wait()
            for rid in share:
                if time.perf_counter() >= stop_at[0]:
                    break
                status, _ = client.request("POST", f"/api/v1/records/{rid}/review", {"decision": "approve"})
                with lock:
                    result.statuses[status] += 1
                    if status == 200:
                        result.reviewed.append(rid)

        threads = [threading.Thread(target=work, args=(c, s)) for c, s in zip(clients, shares, strict=True)]
        for t in threads:
            t.start()
        stop_at.append(time.perf_counter() + args.seconds)
        t0 = time.perf_counter()
        go.wait()
        for t in threads:
            t.join()
        result.seconds = time.perf_counter() - t0
        for c in clients:
            c.close()
    result.accepted = len(result.reviewed)
    _, events = review_events(url, start_id)
    result.events = len(events)
    assert Counter(events) == Counter(result.reviewed), "accepted reviews and audit events differ"
    used = set(result.reviewed)
    queue[:] = [rid for rid in queue if rid not in used]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each timed run")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of 1 and 2 workers; best kept")
    ap.add_argument("--students", type=int, default=8000)
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    ap.add_argument("--postgres-url", default=None, help="use this database (emptied first) instead of a cluster")
    args = ap.parse_args()
    cluster = None
    if args.postgres_url:
        from benchmarks.transitions import _reset_postgres

        _reset_postgres(args.postgres_url)
        url = args.postgres_url
    else:
        from tests.support.postgres import ThrowawayCluster, create_database

        cluster = ThrowawayCluster(durable=True)
        url = create_database(cluster.start())
    folder = Path(tempfile.mkdtemp(prefix="gradflow-concurrency-"))
    try:
        run(args, url, folder)
    finally:
        if cluster is not None:
            cluster.stop()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def run(args: argparse.Namespace, url: str, folder: Path) -> None:
    t = time.perf_counter()
    data = seed(url, folder, args.students)
    queue = list(data["pending"])
    print(f"seeded {args.students:,} students in {time.perf_counter() - t:.0f} s; {len(queue):,} records wait at "
          f"{data['first_level']}", flush=True)
    load_before = uptime()
    best: dict[int, RunResult] = {}
    runs: list[RunResult] = []
    for _ in range(args.rounds):
        for workers in (1, 2):
            if len(queue) < args.clients * 4:
                raise SystemExit("out of pending records: raise --students or lower --seconds")
            r = one_run(url, folder, workers, args, data["first_level"], queue, args.worker_class)
            runs.append(r)
            print(f"  {workers} worker(s): {r.accepted} reviews in {r.seconds:.1f} s = {r.per_s:,.0f}/s, "
                  f"statuses {dict(r.statuses)}", flush=True)
            if workers not in best or r.per_s > best[workers].per_s:
                best[workers] = r
    load_after = uptime()
    verify = subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify"], cwd=ROOT, capture_output=True,
                            text=True, env=gunicorn_env(database_url=url, secret_key=SECRET), check=False)
    five = sum(n for r in runs for s, n in r.statuses.items() if s >= 500)
    lost = sum(abs(r.accepted - r.events) for r in runs)
    print(f"\n{args.clients} clients, one keep-alive connection each, gunicorn {args.worker_class} workers, "
          f"PostgreSQL (durable: fsync, synchronous_commit on), best of {args.rounds} alternating rounds")
    print(f"load before: {load_before}\nload after:  {load_after}\n")
    print("| workers | transitions/s | accepted | 5xx | audit events = accepted |")
    print("|---|---|---|---|---|")
    for workers in (1, 2):
        r = best[workers]
        bad = sum(n for s, n in r.statuses.items() if s >= 500)
        print(f"| {workers} | {r.per_s:,.0f} | {r.accepted} | {bad} | {'yes' if r.events == r.accepted else 'NO'} |")
    ratio = best[2].per_s / best[1].per_s if best[1].per_s else 0.0
    # Each round's 1-worker and 2-worker runs follow each other, so their ratio shares the load.
    pairs = [runs[i + 1].per_s / runs[i].per_s for i in range(0, len(runs) - 1, 2) if runs[i].per_s]
    print(f"\nratio 2 workers / 1 worker (best / best): {ratio:.2f}   target >= {TARGET_RATIO}   "
          f"{'OK' if ratio >= TARGET_RATIO else 'MISSED'}")
    print(f"ratio per round (adjacent runs): {', '.join(f'{r:.2f}' for r in pairs)}; "
          f"median {sorted(pairs)[len(pairs) // 2]:.2f}")
    print(f"5xx over all runs: {five}; accepted reviews without exactly one event: {lost}; "
          f"gradflow audit verify: {'passed' if verify.returncode == 0 else 'FAILED ' + verify.stdout[-500:]}")


if __name__ == "__main__":
    main()
