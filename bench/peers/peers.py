"""Side-by-side benchmark: direct stand-in vs LiteLLM vs the Flask baseline vs Atelier (bench/peers/README in
bench/README.md). Run through `bash bench/peers/run.sh`; prints markdown tables and goals vs measured."""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import admission_phase
import gateways
import load
from processes import Processes, peak_rss_mib, reset_peak, rss_mib

BODY = {"prompt": "a lighthouse at dusk, bench", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}


def options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="atelier executable (release build)")
    parser.add_argument("--litellm-venv", default="/opt/atelier-bench/litellm")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--requests-1", type=int, default=30, help="requests at 1 concurrent, per target")
    parser.add_argument("--requests-16", type=int, default=160, help="requests at 16 concurrent, per target")
    parser.add_argument("--inflight", type=int, default=2000, help="requests in flight in the capacity run (0: skip)")
    parser.add_argument("--inflight-latency-ms", type=int, default=30000)
    parser.add_argument("--skip", default="", help="comma-separated: litellm,flask")
    parser.add_argument("--json", help="also write the figures here")
    return parser.parse_args()


def measure(target, concurrency, requests, min_b64):
    reset_peak(target.pid) if target.pid else None
    before = rss_mib(target.pid) if target.pid else 0
    result = asyncio.run(load.run(target.url, BODY, requests, concurrency, target.headers, target.check, min_b64))
    if target.pid:
        result["rss_before_mib"], result["peak_rss_mib"] = before, peak_rss_mib(target.pid)
    return result


def start_targets(processes, args, upstream, work_dir, skip):
    targets = [gateways.Target("direct (stand-in)", upstream + "/images/generations", headers=gateways.UPSTREAM_KEY)]
    if "litellm" not in skip:
        targets.append(gateways.start_litellm(processes, upstream, args.litellm_venv, work_dir))
    if "flask" not in skip:
        targets.append(gateways.start_flask(processes, upstream, work_dir))
    targets += gateways.start_atelier(processes, args.bin, upstream, work_dir)
    return targets


def latency_runs(processes, args, work_dir, skip):
    upstream = gateways.start_stand_in(processes, "stand-in", args.bin, args.latency_ms, noise=True)
    targets = start_targets(processes, args, upstream, work_dir, skip)
    probe = asyncio.run(load.run(upstream + "/images/generations", BODY, 1, 1, gateways.UPSTREAM_KEY))
    image_bytes = image_size(upstream)
    print(f"upstream: {args.latency_ms} ms latency, 1024x1024 noise PNG of {image_bytes:,} bytes "
          f"(direct probe {probe['p50_ms']:.0f} ms)", file=sys.stderr)
    min_b64 = image_bytes * 4 // 3
    rows = {t.name: {} for t in targets}
    for target in targets:  # warm-up: connections, caches, JIT-less but lazy initialisation
        asyncio.run(load.run(target.url, BODY, 16, 16, target.headers, target.check, min_b64 if target.check == "images" else 1))
    for concurrency, requests in ((1, args.requests_1), (16, args.requests_16)):
        for target in targets:
            result = measure(target, concurrency, requests, min_b64 if target.check == "images" else 1)
            rows[target.name][concurrency] = result
            print(f"  {target.name} c={concurrency}: p50 {result['p50_ms']:.1f} ms, errors {result['errors']}"
                  + (f" ({result['first_error']})" if result["errors"] else ""), file=sys.stderr)
    for target in targets:
        if target.pid:
            rows[target.name]["peak_rss_mib"] = peak_rss_mib(target.pid)
    return rows, image_bytes


def image_size(upstream):
    import urllib.request
    request = urllib.request.Request(upstream + "/images/generations", data=json.dumps(BODY).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer sk-bench"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        import base64
        return len(base64.b64decode(json.loads(answer.read())["data"][0]["b64_json"]))


def inflight_runs(processes, args, work_dir, skip):
    upstream = gateways.start_stand_in(processes, "stand-in-30s", args.bin, args.inflight_latency_ms, noise=False)
    targets = start_targets(processes, args, upstream, os.path.join(work_dir, "inflight"), skip)
    rows = {}
    for target in targets:
        if target.check == "job":
            continue  # ?wait is bounded at 60 s; the compatible route waits for its job
        result = measure(target, args.inflight, args.inflight, 1)
        rows[target.name] = result
        print(f"  {target.name} {args.inflight} in flight: p50 {result['p50_ms'] / 1000:.1f} s, errors {result['errors']}"
              + (f" ({result['first_error']})" if result["errors"] else ""), file=sys.stderr)
    atelier = next(t for t in targets if t.check == "job")
    # Through wrk (admission_phase.py): the client's ceiling (GET /healthz), the burst refused at validation (400,
    # nothing written), then the burst admitted (202), all at once and over 64 connections.
    admitted = admission_phase.summary(admission_phase.run(
        atelier.url.split("/generate")[0], atelier.headers, BODY, args.inflight))
    for row in admitted["rows"]:
        print(f"  Atelier {row['what']}, {row['connections']} connections: {row['per_s']:.0f}/s, "
              f"statuses {row['statuses']}", file=sys.stderr)
    return rows, admitted


def save(figures, path):
    if path:
        with open(path, "w") as file:
            json.dump(figures, file, indent=1)


def main():
    args = options()
    skip = set(filter(None, args.skip.split(",")))
    work_dir = tempfile.mkdtemp(prefix="atelier-peers.")
    os.makedirs(os.path.join(work_dir, "inflight"))
    processes = Processes(work_dir)
    figures = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
               "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
               "binary": args.bin, "latency_ms": args.latency_ms, "inflight": args.inflight,
               "inflight_latency_ms": args.inflight_latency_ms, "load_before": os.getloadavg()}
    print(f"logs in {work_dir}", file=sys.stderr)
    try:
        figures["latency"], figures["image_bytes"] = latency_runs(processes, args, work_dir, skip)
        processes.stop_all()
        save(figures, args.json)  # kept if the in-flight run is cut short
        if args.inflight:
            figures["inflight_runs"], figures["admission"] = inflight_runs(processes, args, work_dir, skip)
    finally:
        processes.stop_all()
    figures["load_after"] = os.getloadavg()
    save(figures, args.json)
    import report
    print(report.render(figures))


if __name__ == "__main__":
    main()
