"""Helpers for the operator tests: run `atelier` with no terminal (stdin closed), start servers, call the API."""
from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The queue tests' HTTP and polling helpers (loaded under another name: both folders have a conftest.py).
_spec = importlib.util.spec_from_file_location("queue_conftest", REPO / "tests/queue/conftest.py")
_queue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_queue)
http, wait_until, free_port = _queue.http, _queue.wait_until, _queue.free_port
BIN = os.environ.get("ATELIER_BIN", str(REPO / ".build/debug/atelier"))
STARTUP = 60.0
CRASH_MARKERS = ("Fatal error", "backtrace", "Stack dump", "Current stack trace", "💣")


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "PUBLIC_DIR", "S3_BUCKET")}
    env.update({"DATA_DIR": str(data_dir), "LOG_LEVEL": "warning", "BCRYPT_COST": "4",
                "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000", "RATE_LIMIT_IMAGES_PER_MINUTE": "1000000"})
    env.update(extra)
    return env


def atelier(args: list[str], env: dict[str, str], stdin: str | None = None, cwd: Path | None = None,
            binary: str = BIN, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs a command as a service unit or a script would: no terminal, stdin closed unless text is piped."""
    return subprocess.run([binary, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, stdin=None if stdin is not None else subprocess.DEVNULL)


def assert_clean_failure(done: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit status 1, exactly one line on stderr naming the problem, no crash report anywhere."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("atelier: "), done.stderr
    for marker in CRASH_MARKERS:
        assert marker not in done.stdout + done.stderr, done.stdout + done.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


class Processes:
    """Long-running `atelier` processes of one test, stopped (SIGTERM, then kill) at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], cwd: Path | None = None, binary: str = BIN) -> subprocess.Popen:
        log = open(self.tmp / f"proc-{len(self.procs)}-{args[0]}.log", "wb")
        proc = subprocess.Popen([binary, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd or self.tmp)
        self.procs.append(proc)
        return proc

    def serve(self, env: dict[str, str], cwd: Path | None = None, binary: str = BIN) -> str:
        port = free_port()
        proc = self.start(["serve", "--hostname", "127.0.0.1", "--port", str(port)], env, cwd, binary)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert proc.poll() is None, f"atelier serve exited:\n{self.logs()}"
            return http("GET", f"{base}/healthz", timeout=2)[0] == 200
        wait_until(up, STARTUP, "atelier serve")
        return base

    def stand_in(self, api_key: str | None = None) -> str:
        port = free_port()
        self.start(["stand-in", "--port", str(port), *(["--api-key", api_key] if api_key else [])], dict(os.environ))
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http("GET", f"{base}/_standin/stats", timeout=2)[0] == 200, STARTUP, "the stand-in")
        return base

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.tmp.glob("proc-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
