#!/usr/bin/env python3
"""Benchmark (not a test): N jobs submitted at once through `atelier serve` against an `atelier stand-in` that
allows IPM images per minute per key, with the minute scaled down to WINDOW seconds so it runs in about a minute.
Prints a markdown table with the measured (scaled) figures and the projected real ones (wall time × 60 / WINDOW).

    python3 bench/rate_limits.py [--jobs 100] [--ipm 10] [--window 6] [--keys 1] [--no-pacing]

ATELIER_BIN picks the executable (default .build/debug/atelier). Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = os.environ.get("ATELIER_BIN", str(REPO / ".build/debug/atelier"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: object = None, timeout: float = 30) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_http(url: str, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"not ready: {url}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--ipm", type=int, default=10, help="images per (scaled) minute per key, at the stand-in")
    parser.add_argument("--window", type=float, default=6.0, help="seconds standing in for a minute")
    parser.add_argument("--keys", type=int, default=1)
    parser.add_argument("--no-pacing", action="store_true", help="leave OPENAI_RATE_LIMITS unset (429s only)")
    args = parser.parse_args()
    scale = 60 / args.window
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="atelier-ratebench-") as tmp:
        try:
            sp, ap = free_port(), free_port()
            procs.append(subprocess.Popen(
                [BIN, "stand-in", "--port", str(sp), "--images-per-window", str(args.ipm),
                 "--rate-window-seconds", str(args.window)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{sp}/_standin/stats")
            keys = ",".join(f"k{i + 1}:sk-bench-key-{i + 1:04d}-secret" for i in range(args.keys))
            env = dict(os.environ, OPENAI_API_KEYS=keys, OPENAI_BASE_URL=f"http://127.0.0.1:{sp}/v1", DATA_DIR=tmp,
                       ATELIER_AUTH="off", RATE_LIMIT_REQUESTS_PER_MINUTE="1000000",
                       RATE_LIMIT_IMAGES_PER_MINUTE="1000000", LOG_LEVEL="error", WORKER_CONCURRENCY="8",
                       WORKER_PER_OWNER_LIMIT="8", OPENAI_RATE_WINDOW_SECONDS=str(args.window), DATABASE_URL="")
            if not args.no_pacing:
                env["OPENAI_RATE_LIMITS"] = f"*:ipm={args.ipm}"
            procs.append(subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(ap)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{ap}/healthz")
            base = f"http://127.0.0.1:{ap}/v1"
            started = time.monotonic()
            ids = []
            for i in range(args.jobs):
                status, body = http("POST", f"{base}/generate", {"prompt": f"bench {i}", "size": "1024x1024", "quality": "low"})
                if status != 202:
                    raise SystemExit(f"enqueue failed: {status} {body}")
                ids.append(body["id"])
            pending, ended = set(ids), {}
            deadline = started + max(600, args.jobs / args.ipm * args.window * 3)
            while pending and time.monotonic() < deadline:
                for job_id in list(pending):
                    _, job = http("GET", f"{base}/jobs/{job_id}")
                    if job.get("status") in ("succeeded", "failed", "canceled"):
                        ended[job_id] = job
                        pending.discard(job_id)
                time.sleep(0.25)
            wall = time.monotonic() - started
            _, limits = http("GET", f"http://127.0.0.1:{sp}/_standin/limits")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
    succeeded = sum(1 for j in ended.values() if j["status"] == "succeeded")
    failed = sum(1 for j in ended.values() if j["status"] == "failed")
    attempts = sum(j.get("attempts", 0) for j in ended.values())
    ideal = max(0, args.jobs - args.ipm * args.keys) / (args.ipm * args.keys) * args.window
    print(f"### {args.jobs} jobs, stand-in {args.ipm} images per {args.window:g} s window per key "
          f"(= {args.ipm}/min scaled ×{scale:g}), {args.keys} key(s), pacing {'off' if args.no_pacing else 'on'}")
    print()
    print("| jobs | succeeded | failed | not finished | attempts | upstream 429s | wall (scaled) | ideal (scaled) | wall (projected real) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.jobs} | {succeeded} | {failed} | {len(pending)} | {attempts} | {limits.get('rate_limited')} "
          f"| {wall:.1f} s | {ideal:.1f} s | {wall * scale / 60:.1f} min |")


if __name__ == "__main__":
    sys.exit(main())
