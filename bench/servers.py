"""Servers the benchmark starts on loopback: gunicorn for our app and for the naive page."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 30.0, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Gunicorn:
    """``gunicorn`` on 127.0.0.1 and a free port; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(
        self,
        app: str,
        workers: int = 2,
        env: dict[str, str] | None = None,
        threads: int | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.threads = threads
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self.workers = workers
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"geoapp-bench-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        args = [
            GUNICORN,
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            *(["--threads", str(self.threads)] if self.threads else []),
            self.app,
        ]
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def wait_warm(self, timeout_s: float = 180.0) -> float:
        """Wait until every worker says it has warmed its caches (``/bench/warm``)."""
        started = time.monotonic()
        pids = set(self.worker_pids())
        warm: set[int] = set()
        while time.monotonic() - started < timeout_s:
            status, body = fetch(self.url + "/bench/warm")
            if status == 200:
                state = json.loads(body)
                if state["warmed"]:
                    warm.add(state["pid"])
                if pids <= warm:
                    return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"workers not warm after {timeout_s} s ({warm} of {pids})")
