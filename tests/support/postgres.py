"""A throwaway PostgreSQL cluster started from the installed binaries, or a URL from the environment.

GRADFLOW_TEST_POSTGRES_URL (a server URL whose user may CREATE DATABASE) skips starting a cluster.
Running as root, the cluster is owned by the `postgres` system user (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2


def find_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in ([str(Path(found).resolve().parent)] if found else []) + candidates:
        if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayCluster:
    """A private PostgreSQL cluster in a temp folder. Tests use fast, non-durable settings;
    benchmarks pass durable=True to measure with the defaults (fsync, synchronous_commit on)."""

    def __init__(self, *, durable: bool = False, synchronous_commit: bool = True) -> None:
        self.durable, self.synchronous_commit = durable, synchronous_commit
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries not found (install Debian's postgresql package)")
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="gradflow-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: str | None = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
        if not self.durable:
            opts += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        elif not self.synchronous_commit:
            opts += "-c synchronous_commit=off "
        opts += "-c max_connections=200"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-l",
                  str(self.root / "log"), "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str) -> str:
    """Create a fresh database on the server; returns its URL."""
    name = "gradflow_test_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    for _ in range(20):
        try:
            conn = psycopg2.connect(server_url)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()
            return
        except psycopg2.Error:
            time.sleep(0.1)
