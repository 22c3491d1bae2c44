"""Every command without a terminal: migrate (never asks; --dry-run), users create (password from a file or stdin),
operator mistakes (status 1, one line on stderr, no backtrace), and a copied binary serving the studio."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from ops_support import BIN, REPO, Processes, assert_clean_failure, atelier, base_env, http


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrate_never_prompts_and_dry_run_changes_nothing(tmp: Path) -> None:
    env = base_env(tmp / "data")
    dry = atelier(["migrate", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "Would apply every migration" in dry.stdout
    assert "jobs" not in tables(tmp / "data/atelier.sqlite")

    done = atelier(["migrate"], env)
    assert done.returncode == 0, done.stderr
    assert "Done: the database is current." in done.stdout
    assert {"jobs", "images", "users", "_fluent_migrations"} <= tables(tmp / "data/atelier.sqlite")

    again = atelier(["migrate", "--yes"], env)  # the flag the old README needed is still accepted
    assert again.returncode == 0 and "No pending migrations" in again.stdout

    # A migration this binary knows but the database has not run is listed by name, and not run by --dry-run.
    with sqlite3.connect(tmp / "data/atelier.sqlite") as db:
        (name,) = db.execute("SELECT name FROM _fluent_migrations ORDER BY batch DESC, rowid DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM _fluent_migrations WHERE name = ?", (name,))
    pending = atelier(["migrate", "--dry-run"], env)
    assert pending.returncode == 0 and "Would apply 1 migration(s):" in pending.stdout
    assert f"  + {name}" in pending.stdout
    with sqlite3.connect(tmp / "data/atelier.sqlite") as db:
        assert db.execute("SELECT count(*) FROM _fluent_migrations WHERE name = ?", (name,)).fetchone() == (0,)


def test_users_create_reads_the_password_from_a_file_or_stdin(tmp: Path, procs: Processes) -> None:
    env = base_env(tmp / "data")
    secret = tmp / "password.txt"
    secret.write_text("from-a-file-pass\nsecond line ignored\n")
    by_file = atelier(["users", "create", "file@example.com", "--password-file", str(secret)], env)
    assert by_file.returncode == 0, by_file.stderr
    by_stdin = atelier(["users", "create", "stdin@example.com", "--verified", "--password-stdin"], env,
                       stdin="from-stdin-pass-1\n")
    assert by_stdin.returncode == 0, by_stdin.stderr
    for done in (by_file, by_stdin):
        assert "password:" not in done.stdout  # nothing generated, nothing printed
        assert "pass" not in done.stdout.replace("password", "")

    base = procs.serve(env)
    for email, password in [("file@example.com", "from-a-file-pass"), ("stdin@example.com", "from-stdin-pass-1")]:
        status, body = http("POST", f"{base}/v1/auth/login", {"email": email, "password": password})
        assert status == 200, body
    status, _ = http("POST", f"{base}/v1/auth/login", {"email": "file@example.com", "password": "second line ignored"})
    assert status == 401


def test_operator_mistakes_exit_1_with_one_line_and_no_backtrace(tmp: Path) -> None:
    env = base_env(tmp / "data")
    assert atelier(["migrate"], env).returncode == 0
    (tmp / "empty").mkdir()
    cases = [
        (["users", "create", "a@example.com", "--password-stdin"], {}, "", "standard input holds no password"),
        (["users", "create", "a@example.com", "--password-file", str(tmp / "nope")], {}, None, "cannot read the file"),
        (["users", "create", "a@example.com", "--password", "p-1234567890", "--password-stdin"], {}, "x\n",
         "give the password one way"),
        (["users", "create"], {}, None, "email"),
        (["keys", "create", "nobody@example.com"], {}, None, "no account with the email nobody@example.com"),
        (["frobnicate"], {}, None, "Unknown command"),
        (["serve"], {"WORKER_CONCURRENCY": "lots"}, None, "WORKER_CONCURRENCY=lots must be a whole number"),
        (["backup", str(tmp / "no-such-folder/backup")], {}, None, "is not a folder"),
        (["restore", str(tmp / "empty")], {}, None, "is not a backup made by `atelier backup`"),
        (["backup", str(tmp / "b")], {"DATABASE_URL": "postgres://u:p@127.0.0.1:1/x"}, None, "pg_dump"),
    ]
    for args, extra, stdin, expected in cases:
        done = atelier(args, {**env, **extra}, stdin=stdin, timeout=60)
        assert_clean_failure(done, expected)


def install_copy(folder: Path, with_studio: bool = True) -> Path:
    """What docs/DEPLOY.md says to copy: the binary, its `*.resources` bundles and the studio's Public/ folder."""
    folder.mkdir(parents=True)
    shutil.copy2(BIN, folder / "atelier")
    for bundle in Path(BIN).parent.glob("*.resources"):
        shutil.copytree(bundle, folder / bundle.name)
    if with_studio:
        shutil.copytree(REPO / "Public", folder / "Public")
    return folder / "atelier"


def test_a_copied_binary_serves_the_studio_from_any_working_directory(tmp: Path, procs: Processes) -> None:
    binary = install_copy(tmp / "opt/atelier")
    elsewhere = tmp / "somewhere/else"
    elsewhere.mkdir(parents=True)
    env = base_env(tmp / "data")
    base = procs.serve(env, cwd=elsewhere, binary=str(binary))
    status, page = http("GET", f"{base}/")
    assert status == 200 and b"<html" in page.lower()
    assert page == (REPO / "Public/index.html").read_bytes()
    status, document = http("GET", f"{base}/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.") and "/v1/generate" in document["paths"]
    script = next((REPO / "Public/assets").rglob("*.js"))
    status, body = http("GET", f"{base}/{script.relative_to(REPO / 'Public')}")
    assert status == 200 and body == script.read_bytes()

    # Started through a symlink (a /usr/local/bin layout), it still finds the files next to the real binary.
    (tmp / "bin").mkdir()
    (tmp / "bin/atelier").symlink_to(binary)
    doctor = atelier(["doctor"], env, cwd=elsewhere, binary=str(tmp / "bin/atelier"))
    assert f"studio in {binary.parent / 'Public'}" in doctor.stdout, doctor.stdout

    # PUBLIC_DIR overrides.
    custom = tmp / "custom-studio"
    custom.mkdir()
    (custom / "index.html").write_text("<html>custom studio</html>")
    other = procs.serve(base_env(tmp / "data2", PUBLIC_DIR=str(custom)), cwd=elsewhere, binary=str(binary))
    assert http("GET", f"{other}/")[1] == b"<html>custom studio</html>"


def test_a_copied_binary_without_its_studio_refuses_to_serve_clearly(tmp: Path) -> None:
    binary = install_copy(tmp / "bare", with_studio=False)
    done = atelier(["serve", "--port", "0"], base_env(tmp / "data"), cwd=tmp, binary=str(binary), timeout=60)
    assert_clean_failure(done, "the studio's files (Public/) were not found next to the executable", "PUBLIC_DIR")
    wrong = atelier(["serve", "--port", "0"], base_env(tmp / "data", PUBLIC_DIR=str(tmp)), cwd=tmp,
                    binary=str(binary), timeout=60)
    assert_clean_failure(wrong, f"PUBLIC_DIR={tmp} has no index.html")
