"""kill -9 of a worker mid-job (a native job runs again, a compatible-route job ends interrupted, also one its
`serve` started at admission), SIGTERM, two worker processes sharing 200 jobs on PostgreSQL, a worker's metrics."""
from __future__ import annotations

import signal

import pytest

from conftest import PG_URL, STARTUP, Cluster, free_port, http, wait_until


def output_images(job: dict) -> list[dict]:
    return [image for image in job["images"] if image["role"] == "output"]


def test_kill_9_mid_job_then_restart_commits_once(cluster: Cluster) -> None:
    cluster.start()
    # The first upstream call is held (as if the image took minutes); the retry is answered at once.
    cluster.inject([{"kind": "hang", "seconds": 600}])
    doomed = cluster.worker(WORKER_CONCURRENCY="2")
    job = cluster.generate("survives a crash")
    wait_until(lambda: cluster.job(job["id"])["status"] == "running", 60, "the job to be claimed")
    wait_until(lambda: cluster.stats()["calls"] == 1, 30, "the upstream call to start")

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert cluster.job(job["id"])["status"] == "running"  # the dead worker still "holds" it until the lease expires

    cluster.worker(WORKER_CONCURRENCY="2")
    done = wait_until(lambda: (j := cluster.job(job["id"]))["status"] in ("succeeded", "failed") and j, 60,
                      "the restarted worker to finish the job")
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    assert len(output_images(done)) == 1
    assert done["cost_usd"] and done["cost_usd"] > 0
    assert done["usage"]["output_tokens"] > 0
    stats = cluster.stats()
    assert stats["calls"] == 2 and stats["generations"] == 2  # the aborted call and the one that counted

    # Exactly one set of images on disk and in the list, and one job. The output's thumbnail is made by the first
    # request for it, so ask for it before looking at the disk.
    thumbnail = http("GET", f"{cluster.base}{output_images(done)[0]['url']}/thumbnail")
    assert thumbnail[0] == 200
    files = sorted(p.name for p in (cluster.data_dir / "blobs" / "jobs" / job["id"].lower()).rglob("*") if p.is_file())
    assert [f for f in files if f.startswith("output-")] == ["output-0.png", "output-0.thumb.webp"], files
    status, listing = http("GET", f"{cluster.base}/v1/jobs")
    assert status == 200 and [j["id"] for j in listing["data"]] == [done["id"]]
    image = http("GET", f"{cluster.base}{output_images(done)[0]['url']}")
    assert image[0] == 200


def test_sigterm_releases_the_lease_and_nothing_is_lost(cluster: Cluster) -> None:
    cluster.start()
    cluster.inject([{"kind": "hang", "seconds": 600}])
    first = cluster.worker(WORKER_CONCURRENCY="2", SHUTDOWN_GRACE_SECONDS="0")
    job = cluster.generate("graceful")
    wait_until(lambda: cluster.stats()["calls"] == 1, 60, "the upstream call to start")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=20) == 0
    released = cluster.job(job["id"])
    assert released["status"] == "queued", released  # lease released at once, attempt not counted
    assert released["attempts"] == 0

    cluster.worker(WORKER_CONCURRENCY="2")
    done = wait_until(lambda: (j := cluster.job(job["id"]))["status"] == "succeeded" and j, 60, "the job to finish")
    assert done["attempts"] == 1
    assert len(output_images(done)) == 1


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL: two worker processes share jobs through PostgreSQL")
def test_two_workers_on_postgres_run_200_jobs_with_200_upstream_calls(cluster: Cluster) -> None:
    cluster.start()
    env = {"WORKER_CONCURRENCY": "16", "WORKER_PER_OWNER_LIMIT": "64"}
    cluster.worker(**env)
    cluster.worker(**env)
    ids = [cluster.generate(f"job {i}", size="1024x1024")["id"] for i in range(200)]

    def succeeded() -> int:
        count, cursor = 0, None
        while True:
            status, page = http("GET", f"{cluster.base}/v1/jobs?status=succeeded&limit=100"
                                + (f"&cursor={cursor}" if cursor else ""))
            assert status == 200, page
            count += len(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return count

    def all_finished():
        return succeeded() == 200

    wait_until(all_finished, 300, "200 jobs to succeed", interval=0.5)
    stats = cluster.stats()
    assert stats["calls"] == 200, stats
    assert stats["generations"] == 200
    for job_id in ids[:: 20]:
        job = cluster.job(job_id)
        assert job["attempts"] == 1 and len(output_images(job)) == 1


def test_a_worker_process_serves_its_own_metrics(cluster: Cluster) -> None:
    cluster.start()
    port = free_port()
    cluster.worker(METRICS_PORT=str(port))
    url = f"http://127.0.0.1:{port}/metrics"
    wait_until(lambda: http("GET", url, timeout=2)[0] == 200, 60, "the worker's metrics listener")
    job = cluster.generate("counted by the worker")
    wait_until(lambda: cluster.job(job["id"])["status"] == "succeeded", 60, "the job to finish")
    status, raw = http("GET", url)
    assert status == 200
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    lines = set(text.splitlines())
    assert 'atelier_jobs_finished_total{kind="generate",status="succeeded",error=""} 1' in lines, text
    assert any(line.startswith('atelier_upstream_seconds_count{kind="generate",outcome="ok"} 1') for line in lines), text
    # Only /metrics: the API is not served on the metrics port.
    assert http("GET", f"http://127.0.0.1:{port}/v1/jobs", timeout=2)[0] == 404


def test_kill_9_during_a_compatible_route_job_ends_it_interrupted_without_a_second_call(cluster: Cluster) -> None:
    import threading

    cluster.start()
    cluster.inject([{"kind": "hang", "seconds": 600}])
    doomed = cluster.worker(WORKER_CONCURRENCY="2")
    answer: list = []
    caller = threading.Thread(daemon=True, target=lambda: answer.append(http(
        "POST", f"{cluster.base}/v1/images/generations", {"prompt": "a caller that waits", "size": "1024x1024"},
        headers={"Authorization": "Bearer local-tool"}, timeout=120)))
    caller.start()
    wait_until(lambda: cluster.stats()["calls"] == 1, 60, "the upstream call to start")
    job_id = http("GET", f"{cluster.base}/v1/jobs")[1]["data"][0]["id"]

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    cluster.worker(WORKER_CONCURRENCY="2")
    ended = wait_until(lambda: (j := cluster.job(job_id))["status"] in ("succeeded", "failed") and j, 60,
                       "the lease to expire")
    # Its caller's request is the only consumer: it is not run again for nobody; it is charged its estimate.
    assert ended["status"] == "failed" and ended["error"]["code"] == "interrupted", ended
    assert ended["attempts"] == 1 and ended["cost_usd"] and ended["cost_usd"] > 0, ended
    assert cluster.stats()["calls"] == 1
    # (The caller's request on `serve` is not asserted: on SQLite, `serve` learns of an ending in a worker process
    # only when its wait runs out.)


def test_kill_9_of_a_serve_running_a_compatible_route_job_it_started_at_admission(cluster: Cluster) -> None:
    """`serve` with its own worker skips the queue's hop (the job is claimed in its admission transaction and runs
    in that process); killed mid-call, the job ends `interrupted` like any compatible-route job, with one call."""
    import threading

    cluster.start()
    cluster.inject([{"kind": "hang", "seconds": 600}])
    port = free_port()
    doomed = cluster.spawn("serve-with-worker", ["serve", "--hostname", "127.0.0.1", "--port", str(port)],
                           cluster.env(WORKER_CONCURRENCY="2", LOG_LEVEL="debug"))
    log = cluster.tmp / f"serve-with-worker-{len(cluster.procs) - 1}.log"
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: http("GET", f"{base}/healthz", timeout=2)[0] == 200, STARTUP, "serve with its worker")

    def call() -> None:
        try:
            http("POST", f"{base}/v1/images/generations", {"prompt": "started at admission", "size": "1024x1024"},
                 headers={"Authorization": "Bearer local-tool"}, timeout=120)
        except OSError:
            pass  # its server is killed under it

    threading.Thread(daemon=True, target=call).start()
    wait_until(lambda: cluster.stats()["calls"] == 1, 60, "the upstream call to start")
    job_id = http("GET", f"{cluster.base}/v1/jobs")[1]["data"][0]["id"]
    running = cluster.job(job_id)
    assert running["status"] == "running" and running["attempts"] == 1, running
    # Its debug trace says the admission transaction started it (FastPathTrace), not a worker's claim.
    marks = [line for line in log.read_text().splitlines() if "fast path" in line and job_id in line]
    assert any("step: committed_started" in line for line in marks), marks

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    cluster.worker(WORKER_CONCURRENCY="2")  # its housekeeping expires the dead process's lease
    ended = wait_until(lambda: (j := cluster.job(job_id))["status"] in ("succeeded", "failed") and j, 60,
                       "the lease to expire")
    assert ended["status"] == "failed" and ended["error"]["code"] == "interrupted", ended
    assert ended["attempts"] == 1 and ended["cost_usd"] and ended["cost_usd"] > 0, ended
    assert cluster.stats()["calls"] == 1
