"""`atelier doctor` against the stand-in (passes) and with broken configurations (fails, says what to fix)."""
from __future__ import annotations

import os
import sqlite3
import urllib.request
import uuid
from pathlib import Path

import pytest

from ops_support import Processes, assert_clean_failure, atelier, base_env, free_port

KEY = "sk-doctor-key-0123456789abcdef"


def rows(stdout: str) -> dict[str, tuple[str, str]]:
    """The table's rows: check -> (status, detail)."""
    table = stdout.split("\n\n")[0].splitlines()
    assert table[0].split() == ["CHECK", "STATUS", "DETAIL"], stdout
    return {line.split()[0]: (line.split()[1], line.split(None, 2)[2] if len(line.split()) > 2 else "") for line in table[1:]}


def test_doctor_passes_against_the_stand_in_and_never_prints_the_key(tmp: Path, procs: Processes) -> None:
    standin = procs.stand_in(api_key=KEY)
    env = base_env(tmp / "data", OPENAI_API_KEY=KEY, OPENAI_BASE_URL=f"{standin}/v1")
    assert atelier(["migrate"], env).returncode == 0
    done = atelier(["doctor"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    table = rows(done.stdout)
    assert {check: status for check, (status, _) in table.items()} == {
        "configuration": "ok", "database": "ok", "storage": "ok", "upstream": "ok", "disk": "ok"}, done.stdout
    assert f"GET {standin}/v1/models: 200" in table["upstream"][1]
    assert "GB free under" in table["disk"][1]
    assert KEY not in done.stdout + done.stderr and KEY[-8:] not in done.stdout + done.stderr
    assert list((tmp / "data/blobs").rglob("probe-*")) == []  # the probe object was deleted

    # Without a key the upstream is "offline", which is not a failure.
    offline = atelier(["doctor"], base_env(tmp / "data"))
    assert offline.returncode == 0 and rows(offline.stdout)["upstream"][0] == "offline", offline.stdout

    # A refused key fails the upstream check, says what to fix, and still does not print the key.
    wrong = "sk-wrong-key-fedcba9876543210"
    refused = atelier(["doctor"], {**env, "OPENAI_API_KEY": wrong})
    assert_clean_failure(refused, "doctor: 1 check(s) failed")
    assert rows(refused.stdout)["upstream"][0] == "fail"
    assert "401, the key was refused" in refused.stdout and "check OPENAI_API_KEY" in refused.stdout
    assert wrong not in refused.stdout + refused.stderr and wrong[-8:] not in refused.stdout + refused.stderr


def test_doctor_reports_an_unmigrated_database_and_lists_pending_migrations(tmp: Path) -> None:
    env = base_env(tmp / "data")
    fresh = atelier(["doctor"], env)
    assert_clean_failure(fresh, "doctor: 1 check(s) failed")
    assert rows(fresh.stdout)["database"][0] == "fail" and "run `atelier migrate`" in fresh.stdout

    assert atelier(["migrate"], env).returncode == 0
    with sqlite3.connect(tmp / "data/atelier.sqlite") as db:
        (name,) = db.execute("SELECT name FROM _fluent_migrations ORDER BY rowid DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM _fluent_migrations WHERE name = ?", (name,))
    behind = atelier(["doctor"], env)
    assert behind.returncode == 1
    status, detail = rows(behind.stdout)["database"]
    assert status == "fail" and detail == f"reachable; pending migrations: {name}", behind.stdout


def test_doctor_with_a_broken_configuration(tmp: Path) -> None:
    invalid = atelier(["doctor"], base_env(tmp / "data", WORKER_CONCURRENCY="lots", JOB_MAX_ATTEMPTS="0"))
    assert_clean_failure(invalid, "doctor: 1 check(s) failed")
    table = rows(invalid.stdout)
    assert table["configuration"][0] == "fail" and table["configuration"][1] == "2 invalid setting(s)"
    assert all(table[check][0] == "skipped" for check in ("database", "storage", "upstream", "disk"))
    assert "WORKER_CONCURRENCY=lots must be a whole number" in invalid.stdout
    assert "JOB_MAX_ATTEMPTS=0" in invalid.stdout

    # Nothing listens: the database, the bucket and the upstream all fail, each with its fix; no secret is printed.
    dead = free_port()
    broken = atelier(["doctor"], base_env(
        tmp / "data", DATABASE_URL=f"postgres://atelier:db-secret-pw@127.0.0.1:{dead}/atelier",
        S3_BUCKET="images", S3_ENDPOINT=f"http://127.0.0.1:{dead}", S3_ACCESS_KEY_ID="AKIDOCTOR",
        S3_SECRET_ACCESS_KEY="s3-secret-value", OPENAI_API_KEY=KEY, OPENAI_BASE_URL=f"http://127.0.0.1:{dead}/v1"),
        timeout=90)
    assert_clean_failure(broken, "doctor: 3 check(s) failed")
    table = rows(broken.stdout)
    assert table["configuration"][0] == "ok" and table["disk"][0] == "ok"
    assert table["database"][0] == "fail" and table["database"][1].startswith("unreachable")
    assert table["storage"][0] == "fail" and table["storage"][1].startswith("write failed in s3://images/")
    assert table["upstream"][0] == "fail"
    assert "check DATABASE_URL" in broken.stdout and "check S3_ENDPOINT" in broken.stdout
    for secret in ("db-secret-pw", "s3-secret-value", KEY):
        assert secret not in broken.stdout + broken.stderr


PG_URL = os.environ.get("TEST_DATABASE_URL")
S3_URL = os.environ.get("TEST_S3_URL")


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL")
def test_migrate_and_doctor_on_postgres(tmp: Path) -> None:
    schema = "ops_" + uuid.uuid4().hex[:12]
    env = base_env(tmp / "data", DATABASE_URL=PG_URL + ("&" if "?" in PG_URL else "?") + f"search_path={schema}")
    dry = atelier(["migrate", "--dry-run"], env)
    assert dry.returncode == 0 and "Would apply every migration" in dry.stdout, dry.stdout + dry.stderr
    before = atelier(["doctor"], env)
    assert before.returncode == 1 and rows(before.stdout)["database"] == ("fail", "reachable; no Atelier schema yet")
    assert atelier(["migrate"], env).returncode == 0
    after = atelier(["doctor"], env)
    assert after.returncode == 0, after.stdout
    assert rows(after.stdout)["database"] == ("ok", "reachable; migrated")
    assert atelier(["migrate"], env).stdout.strip() == "No pending migrations; the database is current."


@pytest.mark.skipif(not S3_URL, reason="needs TEST_S3_URL (the test command starts moto)")
def test_doctor_probes_an_s3_bucket(tmp: Path) -> None:
    bucket = "doctor-" + uuid.uuid4().hex[:8]
    urllib.request.urlopen(urllib.request.Request(f"{S3_URL}/{bucket}", method="PUT"), timeout=10).read()
    env = base_env(tmp / "data", S3_BUCKET=bucket, S3_ENDPOINT=S3_URL, S3_ACCESS_KEY_ID="test",
                   S3_SECRET_ACCESS_KEY="test-secret-key", S3_PREFIX="probe-test")
    assert atelier(["migrate"], env).returncode == 0
    done = atelier(["doctor"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows(done.stdout)["storage"] == ("ok", f"wrote, read and deleted a probe object in s3://{bucket}/probe-test/")
    listing = urllib.request.urlopen(f"{S3_URL}/{bucket}?list-type=2", timeout=10).read().decode()
    assert "<Key>" not in listing  # the probe was deleted
