"""The same one-at-a-time requests measured by three clients (urllib, aiohttp as run.sh's load.py uses it, curl),
direct to the stand-in and through Atelier's compatible route, alternately: how much of the added p50 at 1
concurrent belongs to the client's way of reading the answer. Not part of run.sh; run
`/opt/atelier-bench/tools/bin/python bench/peers/clients.py --bin .build-release/release/atelier [--requests 20]`."""
import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
import urllib.request

import aiohttp

import gateways
from peers import BODY
from processes import Processes

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--requests", type=int, default=20)
args = parser.parse_args()
payload = json.dumps(BODY).encode()


def by_urllib(url, headers):
    request = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json", **headers})
    sent = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        assert len(response.read()) > 3_000_000
    return time.perf_counter() - sent


def by_curl(url, headers):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", "Content-Type: application/json"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["--data-binary", payload.decode(), url]
    code, total = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()
    assert code == "200"
    return float(total)


async def by_aiohttp(session, url, headers):
    sent = time.perf_counter()
    async with session.post(url, data=payload, headers={"Content-Type": "application/json", **headers}) as response:
        assert len(await response.read()) > 3_000_000
    return time.perf_counter() - sent


async def main(direct, atelier):
    results = {(client, name): [] for client in ("urllib", "aiohttp", "curl") for name in ("direct", "atelier")}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for round_ in range(args.requests + 3):
            for name, (url, headers) in (("direct", direct), ("atelier", atelier)):
                seconds = {"urllib": by_urllib(url, headers), "aiohttp": await by_aiohttp(session, url, headers),
                           "curl": by_curl(url, headers)}
                if round_ >= 3:  # warm-up
                    for client, value in seconds.items():
                        results[(client, name)].append(value * 1000)
    print("| client | direct p50 (ms) | Atelier p50 (ms) | added (ms) |\n|---|---|---|---|")
    for client in ("urllib", "aiohttp", "curl"):
        d, a = (statistics.median(results[(client, n)]) for n in ("direct", "atelier"))
        print(f"| {client} | {d:.1f} | {a:.1f} | {a - d:+.1f} |")


processes = Processes(tempfile.mkdtemp(prefix="atelier-clients."))
try:
    upstream = gateways.start_stand_in(processes, "stand-in", args.bin, 200, noise=True)
    target = next(t for t in gateways.start_atelier(processes, args.bin, upstream, processes.log_dir)
                  if t.name == "Atelier /v1/images/generations")
    asyncio.run(main((upstream + "/images/generations", gateways.UPSTREAM_KEY), (target.url, target.headers)))
finally:
    processes.stop_all()
