"""Real-process tests of the durable job queue (pytest, standard library only).

Each test starts its own `atelier stand-in`, `atelier serve` (HTTP only, WORKER_ENABLED=false) and one or more
`atelier worker` processes, on free loopback ports and a fresh data folder (SQLite) or a fresh PostgreSQL schema
(when TEST_DATABASE_URL is set). Readiness is polled with bounded deadlines; nothing sleeps to synchronise.

Environment:
  ATELIER_BIN        the atelier executable (default: .build/debug/atelier in the repo)
  TEST_DATABASE_URL  PostgreSQL URL; enables the PostgreSQL-only tests
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ATELIER_BIN", str(REPO / ".build/debug/atelier"))
PG_URL = os.environ.get("TEST_DATABASE_URL") or None
STARTUP = 60.0


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = dict(headers or {})
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            if "json" not in res.headers.get("Content-Type", ""):
                return res.status, raw
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last})" if last else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One stand-in, one HTTP-only server and any number of worker processes sharing a database."""

    def __init__(self, tmp: Path, database_url: str | None):
        self.tmp = tmp
        self.database_url = database_url
        self.procs: list[subprocess.Popen] = []
        self.standin_port = free_port()
        self.port = free_port()
        self.standin = f"http://127.0.0.1:{self.standin_port}"
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp / "data"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{self.standin}/v1", "DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": "warning", "ATELIER_AUTH": "off",
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000", "RATE_LIMIT_IMAGES_PER_MINUTE": "1000000", "JOB_LEASE_SECONDS": "5", "SHUTDOWN_GRACE_SECONDS": "1",
        })
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([BIN, *args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def start(self, worker_env: dict[str, str] | None = None) -> None:
        self.spawn("standin", ["stand-in", "--port", str(self.standin_port)], self.env())
        wait_until(lambda: http("GET", f"{self.standin}/_standin/stats", timeout=2)[0] == 200, STARTUP, "the stand-in")
        self.spawn("serve", ["serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                   self.env(WORKER_ENABLED="false"))
        wait_until(lambda: http("GET", f"{self.base}/healthz", timeout=2)[0] == 200, STARTUP, "atelier serve")

    def worker(self, **env: str) -> subprocess.Popen:
        return self.spawn("worker", ["worker"], self.env(**env))

    def stats(self) -> dict[str, int]:
        return http("GET", f"{self.standin}/_standin/stats")[1]

    def inject(self, faults: list[dict[str, Any]]) -> None:
        status, body = http("POST", f"{self.standin}/_standin/faults", {"faults": faults})
        assert status < 300, body

    def generate(self, prompt: str, **params: Any) -> dict[str, Any]:
        status, body = http("POST", f"{self.base}/v1/generate",
                            {"prompt": prompt, "size": "1024x1024", "quality": "low", **params},
                            headers={"Authorization": "Bearer local-tool"})  # login off: a local tool, no CSRF token
        assert status == 202, body
        return body

    def job(self, job_id: str) -> dict[str, Any]:
        status, body = http("GET", f"{self.base}/v1/jobs/{job_id}")
        assert status == 200, body
        return body

    def logs(self) -> str:
        out = []
        for path in sorted(self.tmp.glob("*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} is missing: run `swift build` first")
    db = None
    if PG_URL:
        # A fresh schema per test; `atelier` creates it from the search_path parameter.
        db = PG_URL + ("&" if "?" in PG_URL else "?") + "search_path=q_" + uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory(prefix="atelier-queue-") as tmp:
        c = Cluster(Path(tmp), db)
        try:
            yield c
        except BaseException:
            raise
        finally:
            c.stop()
            if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
                print(c.logs())


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
