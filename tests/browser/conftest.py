"""Browser tests for the Atelier studio (pytest + Playwright, Debian's chromium).

They run against a REAL server: a session fixture starts `$ATELIER_BIN stand-in` (an OpenAI-compatible
stand-in upstream) and `$ATELIER_BIN serve` pointed at it, each on a free loopback port, and waits for
readiness by polling with a bounded deadline.

Environment:
  ATELIER_BIN        path to the atelier executable (default: .build/debug/atelier, relative to the repo)
  CHROMIUM           browser executable (default: /usr/bin/chromium)
  ATELIER_BASE_URL   use an already running server instead of starting one (then ATELIER_STANDIN_URL
                     must point at its stand-in for the tests that inspect upstream requests)
  ATELIER_STARTUP_TIMEOUT  seconds to wait for each process to become ready (default 60)
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STARTUP_TIMEOUT = float(os.environ.get("ATELIER_STARTUP_TIMEOUT", "60"))


# ---- tiny HTTP client ---------------------------------------------------------------------------

def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, bytes, dict[str, str]]:
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read(), dict(res.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers or {})


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - report the last failure below
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base_url: str, standin_url: str | None, log: Path | None = None):
        self.base_url = base_url.rstrip("/")
        self.standin_url = standin_url.rstrip("/") if standin_url else None
        self.log = log

    # Atelier API (with login off, as a local tool: a placeholder bearer token, so no CSRF token is needed)
    def api(self, method: str, path: str, body: Any = None, timeout: float = 70) -> tuple[int, Any]:
        headers = {"Authorization": "Bearer local-browser-tests"}
        status, raw, _ = http(method, self.base_url + path, body, headers=headers, timeout=timeout)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw

    def create_job(self, prompt: str, **params: Any) -> dict:
        """Creates a generate job via the API and waits until it has finished."""
        body = {"prompt": prompt, "size": "1024x1024", "quality": "low", **params}
        status, job = self.api("POST", "/v1/generate?wait=30", body)
        assert status in (200, 202), f"POST /v1/generate -> {status} {job}"
        job_id = job["id"]

        def finished():
            s, j = self.api("GET", f"/v1/jobs/{job_id}")
            return j if s == 200 and j["status"] in ("succeeded", "failed", "canceled") else None

        job = wait_until(finished, 60, f"job {job_id} to finish", 0.2)
        assert job["status"] == "succeeded", f"job failed: {job}"
        return job

    # Stand-in inspection
    def standin_requests(self) -> list[dict]:
        assert self.standin_url, "no stand-in URL"
        status, raw, _ = http("GET", self.standin_url + "/_standin/requests")
        assert status == 200, f"GET /_standin/requests -> {status} {raw[:200]!r}"
        return json.loads(raw)

    def standin_file(self, index: int, file_index: int) -> bytes:
        assert self.standin_url, "no stand-in URL"
        status, raw, _ = http("GET", f"{self.standin_url}/_standin/requests/{index}/files/{file_index}")
        assert status == 200, f"GET stand-in file {index}/{file_index} -> {status}"
        return raw

    def standin_clear(self) -> None:
        assert self.standin_url, "no stand-in URL"
        http("DELETE", self.standin_url + "/_standin/requests")


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    fh = open(log, "wb")
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(proc: subprocess.Popen, url: str, log: Path, what: str) -> None:
    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            status, _, _ = http("GET", url, timeout=2)
            return status == 200
        except OSError:
            return False

    try:
        wait_until(ready, STARTUP_TIMEOUT, f"{what} at {url}", 0.1)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    external = os.environ.get("ATELIER_BASE_URL")
    if external:
        yield Server(external, os.environ.get("ATELIER_STANDIN_URL"))
        return
    binary = Path(os.environ.get("ATELIER_BIN", ".build/debug/atelier"))
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        pytest.skip(f"atelier binary not found at {binary} (build it or set ATELIER_BIN)")

    tmp = Path(tempfile.mkdtemp(prefix="atelier-browser-"))
    standin_port, serve_port = free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")}

    standin_log = tmp / "standin.log"
    standin = _start([str(binary), "stand-in", "--hostname", "127.0.0.1", "--port", str(standin_port)],
                     {**base_env, "DATA_DIR": str(tmp / "standin-data")}, standin_log)
    serve = None
    try:
        _wait_ready(standin, f"http://127.0.0.1:{standin_port}/_standin/requests", standin_log, "stand-in")
        serve_log = tmp / "serve.log"
        env = {
            **base_env,
            "OPENAI_API_KEY": "sk-test-browser",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{standin_port}/v1",
            "DATA_DIR": str(tmp / "data"),
            "ATELIER_AUTH": "off",
        }
        serve = _start([str(binary), "serve", "--hostname", "127.0.0.1", "--port", str(serve_port)], env, serve_log)
        _wait_ready(serve, f"http://127.0.0.1:{serve_port}/healthz", serve_log, "atelier serve")
        yield Server(f"http://127.0.0.1:{serve_port}", f"http://127.0.0.1:{standin_port}")
    finally:
        if serve is not None:
            _stop(serve)
        _stop(standin)
        logs = ARTIFACTS / "server-logs"
        logs.mkdir(parents=True, exist_ok=True)
        for f in tmp.glob("*.log"):
            shutil.copy(f, logs / f.name)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield b
    b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def watch_errors(page: Page, errors: list[str]) -> None:
    """Collects uncaught page errors and anything the Content-Security-Policy blocked."""
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)


def new_context(browser: Browser, server: Server, width: int = 1280, height: int = 900,
                color_scheme: str = "light") -> BrowserContext:
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": width, "height": height},
                              color_scheme=color_scheme, accept_downloads=True)
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def page(request, browser: Browser, server: Server) -> Iterator[Page]:
    ctx = new_context(browser, server)
    pg = ctx.new_page()
    errors: list[str] = []
    watch_errors(pg, errors)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        out = ARTIFACTS / "failures"
        out.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    ctx.close()
    assert not errors, f"uncaught page errors: {errors}"
