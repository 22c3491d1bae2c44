"""Where Atelier's added latency goes on the compatible route, one request at a time: starts the stand-in (200 ms,
3.15 MB PNGs) and `atelier serve` at LOG_LEVEL=debug, sends N requests in turn (plus N straight to the stand-in),
and joins the client's timestamps with the server's `fast path` trace marks (`FastPathTrace`) by job id. Prints the
median of each step. Not part of `bench/peers/run.sh`; run
`/opt/atelier-bench/tools/bin/python bench/peers/trace.py --bin .build-release/release/atelier [--requests 30]`."""
import argparse
import json
import os
import re
import statistics
import tempfile
import time
import urllib.request

import gateways
from peers import BODY
from processes import Processes

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--requests", type=int, default=30)
args = parser.parse_args()


def post(url, headers):
    request = urllib.request.Request(url, data=json.dumps(BODY).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    sent = time.time()
    with urllib.request.urlopen(request, timeout=60) as response:
        head = time.time()
        body = response.read()
        done = time.time()
        assert response.status == 200 and len(body) > 3_000_000, (response.status, len(body))
        return sent, head, done, response.headers.get("x-atelier-job-id")


work_dir = tempfile.mkdtemp(prefix="atelier-trace.")
processes = Processes(work_dir)
os.environ["ATELIER_LOG_LEVEL"] = "debug"
try:
    upstream = gateways.start_stand_in(processes, "stand-in", args.bin, 200, noise=True)
    target = next(t for t in gateways.start_atelier(processes, args.bin, upstream, work_dir)
                  if t.name == "Atelier /v1/images/generations")
    for _ in range(4):  # warm-up: connections, caches
        post(target.url, target.headers)
        post(upstream + "/images/generations", gateways.UPSTREAM_KEY)
    direct, direct_body, calls = [], [], []
    for _ in range(args.requests):
        sent, head, done, _ = post(upstream + "/images/generations", gateways.UPSTREAM_KEY)
        direct.append(done - sent)
        direct_body.append(done - head)
        calls.append(post(target.url, target.headers))
    marks = {}  # job -> step -> at
    pending = []  # worker marks without a job id (upstream_call), in order
    entered = {}  # request id -> at (the handler does not know its job yet)
    for line in open(os.path.join(work_dir, "atelier.log"), errors="replace"):
        if "fast path" not in line:
            continue
        fields = dict(re.findall(r"([\w-]+): ([^,\]]+)", line.split("fast path", 1)[1]))
        if fields["step"] == "entered":
            entered[fields["request-id"]] = float(fields["at"])
        elif fields.get("job", "-") == "-":
            pending.append((fields["step"], float(fields["at"])))
        else:
            marks.setdefault(fields["job"], {})[fields["step"]] = float(fields["at"])
            if fields["step"] == "answering":
                marks[fields["job"]]["entered"] = entered.get(fields.get("request-id"))
    steps = {}
    for sent, head, done, job in calls:
        m = marks.get(job, {})
        started = m.get("committed_started")
        call = next((at for step, at in pending if step == "upstream_call" and started and at >= started), None)
        if None in (started, call, m.get("entered"), m.get("committing"), m.get("answering")):
            continue
        for name, value in [
            ("client sent → handler entered (HTTP, caller, requests-per-minute hit)", m["entered"] - sent),
            ("handler entered → group commit asked (decode, settings, validation, admission)", m["committing"] - m["entered"]),
            ("group commit (job, events, reservation, claim, gate) → committed", started - m["committing"]),
            ("committed → upstream call started (task start, handler)", call - started),
            ("upstream call started → answer head (upstream 200 ms + its head)", m["answering"] - call),
            ("answer head at Atelier → client has the head", head - m["answering"]),
            *([("  of which: answer head at Atelier → head written on the caller's connection", m["head_written"] - m["answering"]),
               ("  of which: head written → client has the head", head - m["head_written"])] if "head_written" in m else []),
            ("client head → client has the body (3.15 MB forwarded)", done - head),
            ("total through Atelier", done - sent),
        ]:
            steps.setdefault(name, []).append(value * 1000)
    print(f"{len(steps.get('total through Atelier', []))} requests traced; direct p50 {statistics.median(direct) * 1000:.1f} ms"
          f" (its body after the head: {statistics.median(direct_body) * 1000:.1f} ms)")
    for name, values in steps.items():
        print(f"| {name} | {statistics.median(values):.2f} ms |")
finally:
    processes.stop_all()
