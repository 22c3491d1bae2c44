"""Where Atelier's added latency goes on the compatible route: `perf record` of `atelier serve` while N requests
run one at a time, then the top symbols (self time). `bash bench/peers/run.sh` does not call it; run
`/opt/atelier-bench/tools/bin/python bench/peers/profile.py --bin .build-release/release/atelier [--requests 40]`;
`--route admission --requests 2000 [--connections 64]` profiles N `POST /v1/generate` (no wait) sent by wrk over
C connections instead (bench/peers/wrk_burst.py); `--concurrency 16` runs the compatible route 16 at a time. It
also prints the CPU time of Atelier and of the stand-in per request (utime + stime from /proc over the profiled
requests); perf.data stays in the printed directory for `perf report`."""
import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

import gateways
import load
import wrk_burst
from peers import BODY
from processes import Processes

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--requests", type=int, default=40)
parser.add_argument("--route", default="Atelier /v1/images/generations")
parser.add_argument("--concurrency", type=int, default=1)
parser.add_argument("--connections", type=int, default=64, help="admission: wrk's connections")
args = parser.parse_args()
work_dir = tempfile.mkdtemp(prefix="atelier-profile.")
processes = Processes(work_dir)
try:
    def cpu_seconds(pid):  # utime + stime of the process, all its threads
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    admission = args.route == "admission"
    # Admission as in the peers' in-flight run: a 30 s upstream with small images, so the jobs the workers claim
    # meanwhile wait upstream rather than decode 3 MB images in this process.
    upstream = gateways.start_stand_in(processes, "stand-in", args.bin, 30000 if admission else 200, noise=not admission)
    route = "Atelier /v1/generate?wait" if admission else args.route
    target = next(t for t in gateways.start_atelier(processes, args.bin, upstream, work_dir) if t.name == route)
    if not admission:
        asyncio.run(load.run(target.url, BODY, max(4, args.concurrency), args.concurrency, target.headers, target.check))
    stand_in_pid = processes.running["stand-in"].pid
    cpu_before = (cpu_seconds(target.pid), cpu_seconds(stand_in_pid), time.perf_counter())
    data = os.path.join(work_dir, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(target.pid), "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if admission:
        result = wrk_burst.burst(target.url.split("?")[0], args.requests, args.connections, BODY, target.headers)
        summary = (f"{args.requests} jobs over {min(args.connections, args.requests)} connections, "
                   f"{result['per_s']:.0f} jobs/s, answers {result['statuses']}")
    else:
        result = asyncio.run(load.run(target.url, BODY, args.requests, args.concurrency, target.headers, target.check))
        summary = (f"{result['count']} requests {args.concurrency} at a time, p50 {result['p50_ms']:.1f} ms, "
                   f"errors {result['errors']}")
    atelier_cpu = cpu_seconds(target.pid) - cpu_before[0]
    stand_in_cpu = cpu_seconds(stand_in_pid) - cpu_before[1]
    wall = time.perf_counter() - cpu_before[2]
    perf.send_signal(2)
    perf.wait()
    print(f"{args.route}: {summary} (perf.data in {work_dir})", file=sys.stderr)
    print(f"CPU per request: Atelier {1000 * atelier_cpu / args.requests:.1f} ms, stand-in "
          f"{1000 * stand_in_cpu / args.requests:.1f} ms (wall {wall:.1f} s, {args.requests} requests, "
          f"load average {os.getloadavg()[0]:.2f})", file=sys.stderr)
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio",
                             "--percent-limit", "1.5", "-g", "none"], capture_output=True, text=True).stdout
    lines = "\n".join(line.rstrip() for line in report.splitlines() if line and not line.startswith("#"))
    try:  # readable Swift names
        lines = subprocess.run(["swift-demangle", "--simplified"], input=lines, capture_output=True, text=True).stdout
    except FileNotFoundError:
        pass
    print("\n".join(line[:170] for line in lines.splitlines()))
finally:
    processes.stop_all()
