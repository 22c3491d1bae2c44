"""SQL statements per request, counted from `atelier serve`'s debug log (SQLiteKit and PostgresKit log each statement
they run as "Executing query", PostgreSQL's BEGIN and COMMIT included), one request at a time so every statement
belongs to the request in flight:
- `POST /v1/generate` (no wait) with the worker off: statements per admitted job (caller, settings, rate limits,
  the admission group's transaction, the 202);
- the compatible route (worker on, 200 ms stand-in): statements from the handler's `entered` mark to the
  `upstream_call` mark, plus the requests-per-minute hit when it is logged just before `entered` (a statement of its
  own; on SQLite since RequestHitCounts it is inside the admission group), i.e. all before the upstream call; and all statements per request, the completion's included.
Not part of run.sh:
    cd bench/peers && /opt/atelier-bench/tools/bin/python statements.py --bin BIN [--bin BIN2] [--requests 20]
With `--database-url postgres://…/db` each run gets a fresh PostgreSQL database on that server (pg_database.py)."""
import argparse
import json
import os
import re
import tempfile
import time
import urllib.request

import gateways
import pg_database
from peers import BODY
from processes import Processes

STATEMENT = "Executing query"
# Timer-driven loops that run whatever the requests do (housekeeping's lease scan, the webhook dispatcher's poll).
BACKGROUND = ("AND lease_expires < ?1]", "AND lease_expires < $1]", "UPDATE webhook_deliveries SET lease_owner")


def post(url, headers):
    request = urllib.request.Request(url, data=json.dumps(BODY).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return response.status


def log_lines(work_dir, name):
    with open(os.path.join(work_dir, f"{name}.log"), errors="replace") as log:
        return [line for line in log if (STATEMENT in line and not any(b in line for b in BACKGROUND)) or "fast path" in line]


def database(url, name):
    return pg_database.fresh(url, name) if url else ""


def admission(processes, binary, upstream, work_dir, requests, database_url):
    os.environ["WORKER_ENABLED"] = "false"
    try:
        target = gateways.start_atelier(processes, binary, upstream, work_dir, name="admission",
                                        database_url=database(database_url, "atelier_statements_admission"))[1]
    finally:
        del os.environ["WORKER_ENABLED"]
    url = target.url.split("?")[0]
    for _ in range(3):
        post(url, target.headers)  # warm-up: the first request's one-off reads
    time.sleep(0.5)
    before = sum(STATEMENT in line for line in log_lines(work_dir, "admission"))
    statuses = [post(url, target.headers) for _ in range(requests)]
    time.sleep(0.5)
    after = sum(STATEMENT in line for line in log_lines(work_dir, "admission"))
    processes.stop("admission")
    assert statuses == [202] * requests, statuses
    return (after - before) / requests


def compat(processes, binary, upstream, work_dir, requests, database_url):
    target = next(t for t in gateways.start_atelier(processes, binary, upstream, work_dir, name="compat",
                                                    database_url=database(database_url, "atelier_statements_compat"))
                  if t.name == "Atelier /v1/images/generations")
    for _ in range(3):
        post(target.url, target.headers)
    time.sleep(0.5)
    skip = len(log_lines(work_dir, "compat"))
    for _ in range(requests):
        post(target.url, target.headers)
        time.sleep(0.3)  # the completion commits behind the answer (write-behind)
    lines = log_lines(work_dir, "compat")[skip:]
    processes.stop("compat")
    before_call, after_call, total, current = [], [], [], None
    for index, line in enumerate(lines):
        step = re.search(r"step: (\w+)", line)
        if step and step.group(1) == "entered":
            # The requests-per-minute hit: logged just before `entered` (its `routed` mark aside) when it is a
            # statement of its own (PostgreSQL, and SQLite before RequestHitCounts); on SQLite now it is written inside
            # the admission group's transaction, so counted there.
            previous = next((line for line in reversed(lines[:index]) if "fast path" not in line), "")
            own_hit = int(STATEMENT in previous and "rate_counters" in previous)
            if current is not None:
                total.append(current["all"] - current["own_hit"])  # the next request's hit is not this one's
                after_call.append(total[-1] - current["before"])
            current = {"before": own_hit, "all": 2 * own_hit, "called": False, "own_hit": own_hit}
        elif current is None:
            continue
        elif step and step.group(1) == "upstream_call":
            current["called"] = True
            before_call.append(current["before"])
        elif STATEMENT in line:
            current["all"] += 1
            if not current["called"]:
                current["before"] += 1
    total.append(current["all"] - current["own_hit"])
    after_call.append(total[-1] - current["before"])
    return sum(before_call) / len(before_call), sum(after_call) / len(after_call), sum(total) / len(total)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", action="append", required=True)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (postgres://…/db): run on it, not SQLite")
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="atelier-statements.")
    processes = Processes(work_dir)
    os.environ["ATELIER_LOG_LEVEL"] = "debug"
    print("| binary | statements per admitted POST /v1/generate (no worker) | compatible route: before the upstream call "
          "| compatible route: after it (the completion) | compatible route: all, per request |\n|---|---|---|---|---|")
    try:
        upstream = gateways.start_stand_in(processes, "stand-in", args.bin[0], 200, noise=False)
        for binary in args.bin:
            per_job = admission(processes, binary, upstream, work_dir, args.requests, args.database_url)
            before_call, after_call, per_request = compat(processes, binary, upstream, work_dir, args.requests,
                                                          args.database_url)
            print(f"| {binary} | {per_job:.1f} | {before_call:.1f} | {after_call:.1f} | {per_request:.1f} |", flush=True)
    finally:
        processes.stop_all()


if __name__ == "__main__":
    main()
