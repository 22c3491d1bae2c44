"""`atelier backup` of a live instance while jobs are created and completed against the stand-in, and `atelier
restore` into a fresh DATA_DIR: every job in the snapshot and every one of its images is readable through the API."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from ops_support import Processes, assert_clean_failure, atelier, base_env, http, wait_until

LOCAL_TOOL = {"Authorization": "Bearer local-tool"}  # login off: writes go as a local tool's (no CSRF token)


class Writer(threading.Thread):
    """Creates generation jobs one after another until stopped; remembers when each request started and ended."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.accepted: list[tuple[float, float, str]] = []
        self.errors: list[object] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            sent = time.monotonic()
            status, body = http("POST", f"{self.base}/v1/generate",
                                {"prompt": f"backup under load {n}", "size": "1024x1024", "quality": "low"}, LOCAL_TOOL)
            if status == 202:
                self.accepted.append((sent, time.monotonic(), body["id"]))
            else:
                self.errors.append(body)
            n += 1


def all_jobs(base: str) -> dict[str, dict]:
    jobs, cursor = {}, None
    while True:
        status, page = http("GET", f"{base}/v1/jobs?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        jobs.update({job["id"]: job for job in page["data"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return jobs


def succeeded(base: str) -> int:
    return sum(1 for job in all_jobs(base).values() if job["status"] == "succeeded")


def test_backup_while_serving_then_restore_into_a_fresh_data_dir(tmp: Path, procs: Processes) -> None:
    standin = procs.stand_in()
    env = base_env(tmp / "live", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{standin}/v1", ATELIER_AUTH="off",
                   WORKER_CONCURRENCY="4", WORKER_PER_OWNER_LIMIT="4")
    live = procs.serve(env)
    writers = [Writer(live), Writer(live)]
    for writer in writers:
        writer.start()
    try:
        wait_until(lambda: succeeded(live) >= 8, 120, "jobs to complete before the backup", interval=0.2)
        before = {job_id for writer in writers for _, _, job_id in writer.accepted}
        started = time.monotonic()
        backup = atelier(["backup", str(tmp / "backup")], env)
        finished = time.monotonic()
        assert backup.returncode == 0, backup.stdout + backup.stderr
        # Writes went on while the backup ran, and after it.
        wait_until(lambda: any(sent > finished for w in writers for sent, _, _ in w.accepted), 60,
                   "a job accepted after the backup")
    finally:
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=60)
    assert not [e for w in writers for e in w.errors], [e for w in writers for e in w.errors][:3]
    # Jobs were being created (requests in flight) while the backup ran.
    during = [job_id for w in writers for sent, done, job_id in w.accepted if sent < finished and done > started]
    assert during, "no job was created while the backup ran"
    assert "Backed up to" in backup.stdout

    # The backup folder is whole (no staging folder left) and its snapshot has every job accepted before it began.
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".backup")) == []
    manifest = json.loads((tmp / "backup/manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["missing"] == []
    with sqlite3.connect(tmp / "backup/atelier.sqlite") as db:
        snapshot_jobs = {row[0].lower(): row[1] for row in db.execute("SELECT id, status FROM jobs")}
        snapshot_images = db.execute("SELECT count(*) FROM images").fetchone()[0]
    assert before <= set(snapshot_jobs), before - set(snapshot_jobs)
    assert list(snapshot_jobs.values()).count("succeeded") >= 8
    assert manifest["images"] >= snapshot_images > 0

    # Restore into a fresh DATA_DIR; serve it without workers so what is served is exactly the snapshot.
    fresh = base_env(tmp / "restored", ATELIER_AUTH="off", WORKER_ENABLED="false")
    restored = atelier(["restore", str(tmp / "backup")], fresh)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    again = atelier(["restore", str(tmp / "backup")], fresh)
    assert_clean_failure(again, "refusing to overwrite")

    copy = procs.serve(fresh)
    jobs = all_jobs(copy)
    assert set(jobs) == set(snapshot_jobs)
    checked = 0
    for job_id, listed in jobs.items():
        status, job = http("GET", f"{copy}/v1/jobs/{job_id}")
        assert status == 200 and job["status"] == snapshot_jobs[job_id], job
        for image in job["images"] + job.get("inputs", []):
            status, data = http("GET", f"{copy}{image['url']}")
            assert status == 200, (job_id, image, data)
            assert data == http("GET", f"{live}{image['url']}")[1]  # the very bytes the live instance serves
            status, thumb = http("GET", f"{copy}{image['thumbnail_url']}")
            assert status == 200 and thumb[:4] == b"RIFF", (image, status)
            checked += 1
    assert checked >= 8


S3_URL = os.environ.get("TEST_S3_URL")


@pytest.mark.skipif(not S3_URL, reason="needs TEST_S3_URL (the test command starts moto)")
def test_backup_and_restore_with_images_in_a_bucket(tmp: Path, procs: Processes) -> None:
    buckets = ["backup-" + uuid.uuid4().hex[:8], "restore-" + uuid.uuid4().hex[:8]]
    for bucket in buckets:
        urllib.request.urlopen(urllib.request.Request(f"{S3_URL}/{bucket}", method="PUT"), timeout=10).read()
    s3 = {"S3_ENDPOINT": S3_URL, "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test-secret-key"}
    env = base_env(tmp / "live", ATELIER_AUTH="off", S3_BUCKET=buckets[0], **s3)  # offline provider
    live = procs.serve(env)
    for n in range(3):
        assert http("POST", f"{live}/v1/generate", {"prompt": f"bucket {n}", "size": "1024x1024"}, LOCAL_TOOL)[0] == 202
    wait_until(lambda: succeeded(live) == 3, 60, "three offline jobs")
    backup = atelier(["backup", str(tmp / "backup")], env)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert list((tmp / "backup/blobs").rglob("output-0.png"))
    assert not list(tmp.glob("live/blobs/**/*.png"))  # the live images were in the bucket, not on disk

    fresh = base_env(tmp / "restored", ATELIER_AUTH="off", WORKER_ENABLED="false", S3_BUCKET=buckets[1], **s3)
    assert atelier(["restore", str(tmp / "backup")], fresh).returncode == 0
    assert not list(tmp.glob("restored/blobs/**/*.png"))  # restored into the second bucket
    copy = procs.serve(fresh)
    jobs = all_jobs(copy)
    assert len(jobs) == 3
    for job_id in jobs:
        job = http("GET", f"{copy}/v1/jobs/{job_id}")[1]
        for image in job["images"]:
            status, data = http("GET", f"{copy}{image['url']}")
            assert status == 200 and data == http("GET", f"{live}{image['url']}")[1]
