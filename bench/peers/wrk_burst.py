"""Bursts of requests through Debian's `wrk` and bench/peers/burst.lua: a load generator that is not the limit
(one C thread on epoll; aiohttp's asyncio client answered at most ~140 requests/s on this machine).

    burst(url, count, connections, body=None, headers=None) -> {"requests", "answered", "wall_s", "per_s",
        "statuses": {"202": n, ...}, "errors": {...}, "p50_ms", "p99_ms"}

`count` requests in all over `connections` keep-alive connections (connections == count: all at once, one each);
wall = first request written → last answer read. `bash bench/peers/run.sh` installs wrk when it is missing."""
import json
import os
import resource
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# 2,000 connections at once: wrk (a child) inherits this process's open-file limit.
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)


def available():
    return shutil.which("wrk") is not None


def burst(url, count, connections, body=None, headers=None, method=None, seconds=600):
    """Runs one burst; raises if wrk fails or not every request was answered within `seconds`."""
    connections = min(connections, count)
    authorization = (headers or {}).get("Authorization", "-")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        if body is not None:
            json.dump(body, file)
        body_file = file.name if body is not None else "-"
    try:
        argv = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{seconds}s",
                "-s", os.path.join(HERE, "burst.lua"), url, "--", str(count),
                method or ("POST" if body is not None else "GET"), body_file, authorization]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(file.name)
    line = next((l for l in done.stdout.splitlines() if l.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result = json.loads(line)
    if result["answered"] != result["requests"]:
        raise RuntimeError(f"wrk: {result['answered']} of {result['requests']} answered in {seconds} s: {result}")
    return result


def count(result, statuses):
    """How many answers had one of `statuses` (ints)."""
    return sum(result["statuses"].get(str(status), 0) for status in statuses)
