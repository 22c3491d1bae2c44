"""Load generator for bench/peers: N POSTs of one JSON body, at most C in flight, on keep-alive connections.

Each request's latency is from just before the request is written to when the whole body has been read. The body
is checked, not parsed in full (a 4 MB JSON parse would make the client the bottleneck): an images route must
answer 200 with a `b64_json` of at least MIN_B64 characters; Atelier's `/v1/generate?wait` must answer 200 with
`"status":"succeeded"`.
"""
import asyncio
import json
import time

import aiohttp


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[rank]


def summarize(latencies, errors, wall, first_error=None):
    return {
        "count": len(latencies), "errors": errors, "wall_s": wall,
        "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "rps": len(latencies) / wall if wall > 0 else 0.0, "first_error": first_error,
    }


def looks_right(status, body, check, min_b64):
    if status != 200:
        return False
    if check == "job":
        return json.loads(body).get("status") == "succeeded"
    start = body.find(b'"b64_json"')
    if start < 0:
        return False
    colon = body.index(b'"', body.index(b":", start) + 1) + 1
    end = body.index(b'"', colon)
    return end - colon >= min_b64


async def run(url, body, requests, concurrency, headers=None, check="images", min_b64=1, timeout=1800):
    """Sends `requests` POSTs, `concurrency` at a time; returns summarize(...) of the successful ones."""
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, force_close=False)
    latencies, errors, first_error = [], 0, None
    queue = iter(range(requests))

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async def one():
            nonlocal errors, first_error
            started = time.perf_counter()
            try:
                async with session.post(url, data=payload, headers=headers) as response:
                    content = await response.read()
                    status = response.status
            except Exception as error:  # noqa: BLE001 - every failure counts as an error
                status, content = 0, repr(error).encode()
            elapsed = time.perf_counter() - started
            if looks_right(status, content, check, min_b64):
                latencies.append(elapsed)
            else:
                errors += 1
                first_error = first_error or f"{status}: {content[:300]!r}"

        async def lane():
            for _ in queue:
                await one()

        began = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    return summarize(latencies, errors, wall, first_error)


async def admission(url, body, jobs, headers=None, accepted=(200, 202)):
    """`jobs` POSTs at once (no wait): how fast the gateway answers them all with 202/200 (jobs admitted per second;
    `accepted=(400,)` with a refused body measures the same path without the job's write)."""
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    connector = aiohttp.TCPConnector(limit=jobs)
    admitted, errors, first_error = 0, 0, None
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as session:
        async def one():
            nonlocal admitted, errors, first_error
            try:
                async with session.post(url, data=payload, headers=headers) as response:
                    content = await response.read()
                    if response.status in accepted:
                        admitted += 1
                        return
                    first_error = first_error or f"{response.status}: {content[:300]!r}"
            except Exception as error:  # noqa: BLE001
                first_error = first_error or repr(error)
            errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(jobs)))
        wall = time.perf_counter() - began
    return {"admitted": admitted, "errors": errors, "wall_s": wall, "jobs_per_s": admitted / wall, "first_error": first_error}
