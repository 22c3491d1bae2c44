"""When the upstream sees the calls of an in-flight burst (bench/README.md, "Admission through wrk"): N requests at
once on Atelier's compatible route against the 30 s stand-in, its `/_standin/stats` call count (counted on arrival)
polled every second; prints the client's p50/p99 and (seconds since the burst began, upstream calls so far).
    cd bench/peers && /opt/atelier-bench/tools/bin/python inflight_spread.py --bin .build-release/release/atelier"""
import argparse
import asyncio
import json
import tempfile
import threading
import time
import urllib.request

import gateways
import load
from peers import BODY
from processes import Processes


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    processes = Processes(tempfile.mkdtemp(prefix="atelier-spread."))
    try:
        upstream = gateways.start_stand_in(processes, "stand-in", args.bin, 30000, noise=False)
        compat = gateways.start_atelier(processes, args.bin, upstream, processes.log_dir)[0]
        stats_url = upstream.rsplit("/v1", 1)[0] + "/_standin/stats"
        seen, done = [], threading.Event()
        began = time.monotonic()

        def poll():
            while not done.wait(1):
                try:
                    with urllib.request.urlopen(stats_url, timeout=5) as answer:
                        seen.append((round(time.monotonic() - began, 1), json.loads(answer.read())["calls"]))
                except OSError:
                    pass

        threading.Thread(target=poll, daemon=True).start()
        result = asyncio.run(load.run(compat.url, BODY, args.requests, args.requests, compat.headers, compat.check, 1))
        done.set()
        print(f"p50 {result['p50_ms'] / 1000:.1f} s, p99 {result['p99_ms'] / 1000:.1f} s, errors {result['errors']}")
        until_all = [point for point in seen if point[1] < args.requests] + [p for p in seen if p[1] >= args.requests][:1]
        print("(s since the burst began, upstream calls so far):", until_all)
    finally:
        processes.stop_all()


if __name__ == "__main__":
    main()
