"""A real gunicorn serving `service:create_app()` on a free port, for tests and benchmarks.

Settings come from GRADFLOW_* variables (service.config); the server runs in its own process
group and is stopped with SIGTERM (then SIGKILL) when the context ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_env(**settings: str) -> dict[str, str]:
    """This environment without GRADFLOW_* variables, plus the given settings (name → value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update({f"GRADFLOW_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


class Gunicorn:
    """`gunicorn -w N` on 127.0.0.1:<free port>, ready (healthz answers 200) when constructed."""

    def __init__(self, env: dict[str, str], *, workers: int = 1, threads: int = 1, worker_class: str = "sync",
                 log: Path | None = None, timeout: float = 60.0) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log or os.devnull, "ab")  # noqa: SIM115 - closed in stop()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
             "--bind", f"127.0.0.1:{self.port}", "--keep-alive", "30", "--graceful-timeout", "5",
             "--timeout", "120", "service:create_app()"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become ready: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
