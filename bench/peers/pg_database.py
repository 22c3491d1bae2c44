"""A fresh PostgreSQL database per Atelier run for the bench scripts' `--database-url` (statements.py, admission.py):
`fresh(URL, name)` drops and creates `name` on URL's server (with psql) and returns its URL. Start a server with
durable commits (not scripts/postgres.sh, whose test server runs with fsync=off), e.g.:
    initdb -D DIR -U postgres -A trust && pg_ctl -D DIR -o "-p 5544 -k DIR -c max_connections=3000" start"""
import glob
import shutil
import subprocess
from urllib.parse import urlsplit, urlunsplit


def psql():
    return shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]


def fresh(url, name):
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    for statement in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run([psql(), admin, "-q", "-c", statement], check=True, capture_output=True)
    return urlunsplit(parts._replace(path="/" + name))
