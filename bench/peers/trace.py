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
    routed = {}  # request id -> at (past the middleware chain, before the body and the handler's task)
    details = {}  # job -> step -> detail (e.g. body_end: "parts=N same_loop=B")
    for line in open(os.path.join(work_dir, "atelier.log"), errors="replace"):
        if "fast path" not in line:
            continue
        fields = dict(re.findall(r"([\w-]+): ([^,\]]+)", line.split("fast path", 1)[1]))
        if fields["step"] == "entered":
            entered[fields["request-id"]] = float(fields["at"])
        elif fields["step"] == "routed":
            routed[fields["request-id"]] = float(fields["at"])
        elif fields.get("job", "-") == "-":
            pending.append((fields["step"], float(fields["at"])))
        else:
            marks.setdefault(fields["job"], {})[fields["step"]] = float(fields["at"])
            if fields.get("detail", "-") != "-":
                details.setdefault(fields["job"], {})[fields["step"]] = fields["detail"]
            if fields["step"] == "answering":
                marks[fields["job"]]["entered"] = entered.get(fields.get("request-id"))
                if fields.get("request-id") in routed:
                    marks[fields["job"]]["routed"] = routed[fields["request-id"]]
    steps = {}
    for sent, head, done, job in calls:
        m = marks.get(job, {})
        started = m.get("committed_started")
        call = next((at for step, at in pending if step == "upstream_call" and started and at >= started), None)
        if None in (started, call, m.get("entered"), m.get("committing"), m.get("answering")):
            continue
        # the group commit's own marks (GroupCommit: no job id), the last of each between asking and committed
        group = {step: max((at for s, at in pending if s == step and m["committing"] <= at <= started), default=None)
                 for step in ("group_begun", "group_members_done", "group_committed")}
        for name, value in [
            ("client sent → handler entered (HTTP, caller, requests-per-minute hit)", m["entered"] - sent),
            *([("  of which: client sent → past the middleware chain (HTTP, caller, rate hit)", m["routed"] - sent),
               ("  of which: past the middleware chain → handler entered (body, handler's task)", m["entered"] - m["routed"])]
              if "routed" in m else []),
            ("handler entered → group commit asked (decode, settings, validation, admission)", m["committing"] - m["entered"]),
            ("group commit (job, events, reservation, claim, gate) → committed", started - m["committing"]),
            *([("  of which: asked → transaction begun (actor, writer's task, turn, BEGIN IMMEDIATE)", group["group_begun"] - m["committing"]),
               ("  of which: transaction begun → its work done (statements)", group["group_members_done"] - group["group_begun"]),
               ("  of which: work done → COMMIT returned (COMMIT, fsync)", group["group_committed"] - group["group_members_done"]),
               ("  of which: COMMIT returned → committed at the handler (resume)", started - group["group_committed"])]
              if None not in group.values() else []),
            ("committed → upstream call started (task start, handler)", call - started),
            ("upstream call started → answer head (upstream 200 ms + its head)", m["answering"] - call),
            ("answer head at Atelier → client has the head", head - m["answering"]),
            *([("  of which: answer head at Atelier → head written on the caller's connection", m["head_written"] - m["answering"]),
               ("  of which: head written → client has the head", head - m["head_written"])] if "head_written" in m else []),
            ("client head → client has the body (3.15 MB forwarded)", done - head),
            *([("  upstream head at Atelier (tap) → answer ready (answering)", m["answering"] - m["upstream_head"])]
              if "upstream_head" in m else []),
            *([("  head written → first body part at Atelier (negative: it came first)", m["body_first_part"] - m["head_written"]),
               ("  first body part → upstream body end at Atelier", m["body_end"] - m["body_first_part"]),
               ("  upstream body end at Atelier → end written on the caller's connection", m["body_end_written"] - m["body_end"]),
               ("  end written → client has the whole body", done - m["body_end_written"])]
              if {"head_written", "body_first_part", "body_end", "body_end_written"} <= m.keys() else []),
            ("total through Atelier", done - sent),
        ]:
            steps.setdefault(name, []).append(value * 1000)
    print(f"{len(steps.get('total through Atelier', []))} requests traced; direct p50 {statistics.median(direct) * 1000:.1f} ms"
          f" (its body after the head: {statistics.median(direct_body) * 1000:.1f} ms)")
    for name, values in steps.items():
        print(f"| {name} | {statistics.median(values):.2f} ms |")
    ends = [dict(kv.split("=", 1) for kv in d["body_end"].split()) for d in details.values() if "body_end" in d]
    if ends:
        print(f"body parts per answer (median): {statistics.median(int(e['parts']) for e in ends)}; upstream read on the"
              f" caller's event loop: {sum(e.get('same_loop') == 'true' for e in ends)} of {len(ends)}")
finally:
    processes.stop_all()
