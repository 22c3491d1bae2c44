"""Admission alone (bench/README.md, "Admission and group commit"): for each Atelier binary given, a fresh SQLite
data directory, the stand-in at 30 s latency (the workers claim jobs meanwhile, as in the peers' in-flight run),
then the admission phase (admission_phase.py, through wrk): GET /healthz (the client's ceiling), N refused and N
admitted `POST /v1/generate` (no wait) at once and over 64 connections; jobs/s = N / time until the last 202.
Several binaries run in the same invocation (before/after on one machine state), alternating per round.
`--no-worker` leaves the workers' claims out.
    cd bench/peers && /opt/atelier-bench/tools/bin/python admission.py --bin OLD --bin NEW --jobs 2000 --rounds 2
`--database-url postgres://…/db`: each run on a fresh PostgreSQL database on that server instead (pg_database.py)."""
import argparse
import os
import sys
import tempfile

import gateways
import pg_database
import admission_phase
from peers import BODY
from processes import Processes


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", action="append", required=True, help="atelier executable (repeat to compare)")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="runs per binary, alternating binaries")
    parser.add_argument("--no-worker", action="store_true", help="serve without its worker (admission alone)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (postgres://…/db): run on it, not SQLite")
    args = parser.parse_args()
    if args.no_worker:
        os.environ["WORKER_ENABLED"] = "false"  # start_atelier's environment does not set it
    work_dir = tempfile.mkdtemp(prefix="atelier-admission.")
    processes = Processes(work_dir)
    print(f"logs in {work_dir}", file=sys.stderr)
    try:
        upstream = gateways.start_stand_in(processes, "stand-in", args.bin[0], 30000, noise=False)
        for round in range(args.rounds):
            for index, binary in enumerate(args.bin):
                name = f"atelier-{index}-{round}"
                os.makedirs(os.path.join(work_dir, name))
                database = pg_database.fresh(args.database_url, name.replace("-", "_")) if args.database_url else ""
                target = gateways.start_atelier(processes, binary, upstream, os.path.join(work_dir, name), name=name,
                                                database_url=database)[1]
                rows = admission_phase.run(target.url.split("/generate")[0], target.headers, BODY, args.jobs)
                print(f"\n{binary}, round {round + 1}:\n" + "\n".join(admission_phase.markdown(rows)), flush=True)
                processes.stop(name)
    finally:
        processes.stop_all()


if __name__ == "__main__":
    main()
