"""`atelier doctor` against the stand-in (passes) and with broken configurations (fails, says what to fix)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

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
