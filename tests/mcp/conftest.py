"""Real MCP clients (the official Python SDK, `mcp` on PyPI) against a real `atelier serve` and stand-in upstream.

A module fixture starts `atelier stand-in` and `atelier serve` with login required on free loopback ports and a
fresh data folder (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), creates an account and an API key with
the CLI, and yields the server's URL and the key. Readiness is polled with bounded deadlines.

Run: ATELIER_BIN=.build/debug/atelier pytest tests/mcp
"""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ATELIER_BIN", str(REPO / ".build/debug/atelier"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def atelier():
    if not Path(BIN).exists():
        pytest.fail(f"no atelier executable at {BIN} (set ATELIER_BIN)")
    data = tempfile.mkdtemp(prefix="atelier-mcp-")
    standin_port, port = free_port(), free_port()
    env = dict(os.environ, DATA_DIR=data, OPENAI_API_KEY="sk-upstream-secret", LOG_LEVEL="warning",
               OPENAI_BASE_URL=f"http://127.0.0.1:{standin_port}/v1", BCRYPT_COST="4")
    env.pop("DATABASE_URL", None)
    env.pop("ATELIER_AUTH", None)
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    log = open(Path(data) / "processes.log", "wb")
    standin = subprocess.Popen([BIN, "stand-in", "--hostname", "127.0.0.1", "--port", str(standin_port)],
                               stdout=log, stderr=subprocess.STDOUT)
    processes = [standin]
    try:
        wait_for(f"http://127.0.0.1:{standin_port}/_standin/stats", standin, "the stand-in")
        subprocess.run([BIN, "migrate", "--yes"], env=env, check=True, capture_output=True, timeout=120)
        email = f"mcp-{port}@example.com"
        subprocess.run([BIN, "users", "create", email, "--password", "correct horse battery"],
                       env=env, check=True, capture_output=True, timeout=60)
        created = subprocess.run([BIN, "keys", "create", email, "--name", "mcp"],
                                 env=env, check=True, capture_output=True, text=True, timeout=60)
        key = next(word for word in created.stdout.split() if word.startswith("atl_"))
        serve = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(serve)
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", serve, "atelier serve")
        yield base, key
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
