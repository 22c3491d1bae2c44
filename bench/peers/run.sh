#!/usr/bin/env bash
# Side-by-side benchmark (not a test): direct stand-in vs LiteLLM vs a seed-style Flask gateway vs Atelier.
#   bash bench/peers/run.sh [--inflight 0] [--skip litellm,flask] [--json FILE] [--requests-16 N] …
# Needs Atelier's release build (ATELIER_BIN, default .build-release/release/atelier):
#   swift build -c release --product atelier --scratch-path .build-release
# Makes its Python environments once under BENCH_VENVS (default /opt/atelier-bench): LiteLLM 1.108.7 exactly
# (never 1.107.0, a compromised release) in its own venv, and aiohttp + Flask + Pillow + requests for the load
# generator and the Flask baseline; installs Debian's wrk (the admission phase's load generator) when missing.
# See bench/README.md for the figures and how to read them.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${ATELIER_BIN:-.build-release/release/atelier}
venvs=${BENCH_VENVS:-/opt/atelier-bench}
litellm_version=1.108.7
[[ -x $bin ]] || { echo "no Atelier binary at $bin (see the header of $0)" >&2; exit 2; }
if [[ ! -x $venvs/litellm/bin/litellm ]]; then
  python3 -m venv "$venvs/litellm"
  "$venvs/litellm/bin/pip" install -q "litellm[proxy]==$litellm_version"
fi
installed=$("$venvs/litellm/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
[[ $installed == "$litellm_version" ]] || { echo "LiteLLM $installed in $venvs/litellm; want exactly $litellm_version" >&2; exit 2; }
if [[ ! -x $venvs/tools/bin/python ]] || ! "$venvs/tools/bin/python" -c 'import aiohttp, flask, PIL, requests' 2>/dev/null; then
  python3 -m venv --system-site-packages "$venvs/tools"
  "$venvs/tools/bin/pip" install -q aiohttp flask pillow requests
fi
if ! command -v wrk >/dev/null; then  # the admission phase's load generator (bench/peers/wrk_burst.py)
  apt-get install -y -q wrk >/dev/null || { echo "bench/peers needs wrk (apt-get install wrk)" >&2; exit 2; }
fi
ulimit -n "$(ulimit -Hn)"  # 2,000 in flight: a client, a gateway and an upstream socket each
exec "$venvs/tools/bin/python" bench/peers/peers.py --bin "$bin" --litellm-venv "$venvs/litellm" "$@"
