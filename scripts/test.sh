#!/usr/bin/env bash
# Runs every test: installs what they need (apt: libvips, PostgreSQL, Chromium, TypeScript; pip: playwright,
# pytest, pillow, moto, standardwebhooks, mcp, openapi-spec-validator, schemathesis), builds, runs the Swift suites on SQLite and on a PostgreSQL it starts on 127.0.0.1
# (with an S3-compatible moto server for the S3 store),
# type-checks the studio's JavaScript, and drives the studio in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test

pgdir=$(mktemp -d /tmp/atelier-pg.XXXXXX)
chmod 755 "$pgdir"
s3pid=""
trap 'bash scripts/postgres.sh stop "$pgdir"; [[ -n "$s3pid" ]] && kill "$s3pid" 2>/dev/null; true' EXIT

# An S3-compatible server (moto) on loopback for the S3 blob store tests.
s3port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$s3port" >/tmp/atelier-moto.log 2>&1 & s3pid=$!
python3 - "$s3port" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1).read()
        break
    except Exception:
        if time.monotonic() > deadline:
            sys.exit("moto S3 server did not start: see /tmp/atelier-moto.log")
        time.sleep(0.1)
PY
export TEST_S3_URL="http://127.0.0.1:$s3port"

echo "==> Swift formatting (swift format lint --strict, .swift-format)"
bash scripts/check-format.sh

echo "==> build"
swift build --build-tests

# UpstreamRateLimitTests check pacing over wall-clock windows (how many windows 60 jobs take with one key and with
# two): they run alone after each lane, where the windows are what limits the jobs, not the lane's other 270 tests.
paced=UpstreamRateLimitTests

echo "==> Swift tests on SQLite"
# At most 32 tests at a time, as on PostgreSQL below: with all ~420 at once a test holding a job's output write
# open ran 44 s instead of 0.5 and its job was sent upstream twice.
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=32 swift test --skip-build --parallel --skip "$paced"
echo "==> Swift tests on SQLite: upstream pacing, alone"
swift test --skip-build --filter "$paced"

# --- job queue: real processes (kill -9, SIGTERM) on SQLite -------------------------------------------------
echo "==> Queue process tests on SQLite"
env -u TEST_DATABASE_URL ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/queue -q
# --- end job queue (SQLite) -------------------------------------------------------------------------------

echo "==> Webhook process tests on SQLite (receivers verify signatures with standardwebhooks)"
env -u TEST_DATABASE_URL ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/webhooks -q

echo "==> MCP clients (official Python SDK, stdio and Streamable HTTP) on SQLite"
env -u TEST_DATABASE_URL ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/mcp -q

echo "==> Swift tests on PostgreSQL"
eval "$(bash scripts/postgres.sh start "$pgdir")"
# At most 32 tests at a time (Swift Testing's experimental width): all ~270 at once kept ~1,000 connections open
# and stretched 2-second tests past a minute on two cores; the lane is no slower for it here (143 s against 170 s).
TEST_DATABASE_URL="$TEST_DATABASE_URL" SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=32 \
    swift test --skip-build --parallel --filter AtelierServerTests --skip "$paced"
echo "==> Swift tests on PostgreSQL: upstream pacing, alone"
TEST_DATABASE_URL="$TEST_DATABASE_URL" swift test --skip-build --filter "$paced"

# --- job queue: real processes on PostgreSQL (adds two workers × 200 jobs) --------------------------------
echo "==> Queue process tests on PostgreSQL"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/queue -q
# --- end job queue (PostgreSQL) ---------------------------------------------------------------------------

echo "==> Webhook process tests on PostgreSQL"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/webhooks -q

echo "==> MCP clients (official Python SDK, stdio and Streamable HTTP) on PostgreSQL"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/mcp -q

echo "==> OpenAPI document: valid (openapi-spec-validator), operations complete, no unused schemas"
python3 scripts/check-openapi.py Public/openapi.json

# --- operations: commands without a terminal, a copied binary, doctor, backup/restore; API fuzzing ---------
echo "==> Operator commands (real binary, stdin closed)"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/ops -q

echo "==> API fuzzing (schemathesis against /openapi.json) on SQLite and PostgreSQL"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 tests/fuzz/run_fuzz.py
# --- end operations ---------------------------------------------------------------------------------------

echo "==> JavaScript type check"
bash scripts/check-web.sh

echo "==> Browser tests (headless Chromium) and the official OpenAI SDK against the stand-in"
ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/browser tests/sdk tests/registry -q
