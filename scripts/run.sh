#!/usr/bin/env bash
# Runs Atelier with embedded defaults (SQLite and images under ./data, in-process worker) on
# http://127.0.0.1:8080. Without OPENAI_API_KEY it is an offline demo with synthetic images.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec swift run atelier serve --hostname "${HOST:-127.0.0.1}" --port "${PORT:-8080}"
