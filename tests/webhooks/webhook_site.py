"""Harness for the real-process tests of webhooks: `atelier serve` (with its in-process worker and webhook dispatcher), the
stand-in, and receiver processes (receiver.py) that verify signatures with the `standardwebhooks` package.
Reuses the queue tests' process harness; SQLite by default, PostgreSQL when TEST_DATABASE_URL is set."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location("atelier_process_harness", Path(__file__).parents[1] / "queue" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
wait_until, free_port, STARTUP = harness.wait_until, harness.free_port, harness.STARTUP


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, Any]:
    """Login is off in these tests: calls go as a local tool does (a placeholder bearer, so no CSRF token)."""
    return harness.http(method, url, body, {"Authorization": "Bearer local-tool", **(headers or {})}, timeout)

# Fast, configurable retry schedule so a day of back-off runs in seconds.
WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_BASE_SECONDS": "0.5", "WEBHOOK_MAX_AGE_SECONDS": "60",
    "WEBHOOK_POLL_SECONDS": "0.1", "WEBHOOK_TIMEOUT_SECONDS": "3",
}


class Site:
    """The stand-in, one `atelier serve` running jobs and webhooks, and any number of receivers (on the queue tests'
    Cluster: its ports, data folder or PostgreSQL schema, logs and process clean-up)."""

    def __init__(self, cluster: harness.Cluster):
        self.cluster = cluster
        self.base = cluster.base

    def serve(self, **env: str) -> subprocess.Popen:
        c = self.cluster
        proc = c.spawn("serve", ["serve", "--hostname", "127.0.0.1", "--port", str(c.port)], c.env(**{**WEBHOOK_ENV, **env}))
        wait_until(lambda: http("GET", f"{self.base}/healthz", timeout=2)[0] == 200, STARTUP, "atelier serve")
        return proc

    def start_standin(self) -> None:
        c = self.cluster
        c.spawn("standin", ["stand-in", "--port", str(c.standin_port)], c.env())
        wait_until(lambda: http("GET", f"{c.standin}/_standin/stats", timeout=2)[0] == 200, STARTUP, "the stand-in")

    def register(self, port: int, events: list[str]) -> dict[str, Any]:
        status, body = http("POST", f"{self.base}/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook", "events": events})
        assert status == 201, body
        assert body["secret"].startswith("whsec_")
        return body

    def receiver(self, port: int, secret: str, fail: int = 0) -> Path:
        log = self.cluster.tmp / f"received-{port}.jsonl"
        log.touch()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("receiver.py")), "--port", str(port),
                                 "--secret", secret, "--log", str(log), "--fail", str(fail)], cwd=self.cluster.tmp)
        self.cluster.procs.append(proc)
        return log

    def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        status, body = http("GET", f"{self.base}/v1/webhooks/{webhook_id}/deliveries")
        assert status == 200, body
        return body["data"]


def received(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
