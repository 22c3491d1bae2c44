#!/usr/bin/env bash
# Runs every test: installs what they need (apt: libvips, PostgreSQL, Chromium, TypeScript; pip: playwright,
# pytest, pillow), builds, runs the Swift suites on SQLite and on a PostgreSQL it starts on 127.0.0.1,
# type-checks the studio's JavaScript, and drives the studio in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test

pgdir=$(mktemp -d /tmp/atelier-pg.XXXXXX)
chmod 755 "$pgdir"
trap 'bash scripts/postgres.sh stop "$pgdir"' EXIT

echo "==> build"
swift build --build-tests

echo "==> Swift tests on SQLite"
swift test --skip-build --parallel

# --- job queue: real processes (kill -9, SIGTERM) on SQLite -------------------------------------------------
echo "==> Queue process tests on SQLite"
env -u TEST_DATABASE_URL ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/queue -q
# --- end job queue (SQLite) -------------------------------------------------------------------------------

echo "==> Swift tests on PostgreSQL"
eval "$(bash scripts/postgres.sh start "$pgdir")"
TEST_DATABASE_URL="$TEST_DATABASE_URL" swift test --skip-build --parallel --filter AtelierServerTests

# --- job queue: real processes on PostgreSQL (adds two workers × 200 jobs) --------------------------------
echo "==> Queue process tests on PostgreSQL"
TEST_DATABASE_URL="$TEST_DATABASE_URL" ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/queue -q
# --- end job queue (PostgreSQL) ---------------------------------------------------------------------------

echo "==> JavaScript type check"
bash scripts/check-web.sh

echo "==> Browser tests (headless Chromium) and the official OpenAI SDK against the stand-in"
ATELIER_BIN="$PWD/.build/debug/atelier" python3 -m pytest tests/browser tests/sdk -q
