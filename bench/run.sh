#!/usr/bin/env bash
# Queue and gateway benchmarks (not tests): prints markdown tables. See bench/README.md.
#   bash bench/run.sh dispatch                 # (a) SQLite, and PostgreSQL when TEST_DATABASE_URL is set
#   bash bench/run.sh latency [REQUESTS]       # (b) added latency through Atelier vs the stand-in, 1 and 64 concurrent
#     ROUTE=compat: through POST /v1/images/generations (image bytes back) instead of /v1/generate?wait;
#     WIDTH=16: 1 and 16 concurrent; NOISE=1: the stand-in answers incompressible (≈3 MB at 1024x1024) PNGs
#   bash bench/run.sh capacity JOBS LATENCY_MS # (c) in-flight capacity (e.g. 2000 30000), 1536x1024 images
#   bash bench/run.sh job-memory [JOBS]        # (d) peak memory of one 1536x1024 job vs its image (pattern and noise)
# CONFIG=release uses .build/release (build it first: swift build -c release --product atelier --product atelier-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-debug}
build=${BUILD_DIR:-.build}  # BUILD_DIR=.build-release for a separate release scratch path
bin=$build/$config/atelier bench=$build/$config/atelier-bench
mode=${1:-dispatch}
tmp=$(mktemp -d /tmp/atelier-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL, bounded deadline
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; exit 1
}
start_pair() { # LATENCY_MS CONCURRENCY
  sp=$(port) ap=$(port)
  noise=(); [[ -n "${NOISE:-}" ]] && noise=(--noise-images)
  "$bin" stand-in --port "$sp" --latency-ms "$1" "${noise[@]}" >"$tmp/standin.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$sp/_standin/stats"
  OPENAI_API_KEY=sk-bench OPENAI_BASE_URL="http://127.0.0.1:$sp/v1" DATA_DIR="$tmp/data" ATELIER_AUTH=off \
    RATE_LIMIT_REQUESTS_PER_MINUTE=1000000 RATE_LIMIT_IMAGES_PER_MINUTE=1000000 MAX_OPEN_STREAMS_PER_USER=10000 LOG_LEVEL=error \
    WORKER_CONCURRENCY="$2" WORKER_PER_OWNER_LIMIT="$2" DATABASE_URL="${BENCH_DATABASE_URL:-}" \
    "$bin" serve --hostname 127.0.0.1 --port "$ap" >"$tmp/serve.log" 2>&1 & serve_pid=$!; pids+=($serve_pid)
  wait_http "http://127.0.0.1:$ap/healthz"
}
rss() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

case "$mode" in
  dispatch)
    echo "### (a) dispatch latency and claim throughput ($config build, $(nproc) cores)"
    env -u DATABASE_URL "$bench" dispatch --jobs 300 --claims 1000 2>/dev/null
    if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
      DATABASE_URL="$TEST_DATABASE_URL" "$bench" dispatch --jobs 300 --claims 1000 2>/dev/null | tail -1
    fi
    ;;
  latency)
    start_pair 0 64
    echo "### (b) ${ROUTE:-native} route${NOISE:+, noise images}: through Atelier vs direct stand-in call ($config build, $(nproc) cores, SQLite, 1024x1024 low)"
    "$bench" latency --atelier "http://127.0.0.1:$ap" --standin "http://127.0.0.1:$sp" --requests "${2:-256}" \
      --route "${ROUTE:-native}" --widths "${WIDTH:-64}" 2>/dev/null
    echo; echo "peak RSS of atelier serve: $(rss "$serve_pid") MiB; stand-in: $(rss "${pids[0]}") MiB"
    ;;
  capacity)
    jobs=${2:-2000} latency=${3:-30000}
    start_pair "$latency" "$jobs"
    base=$(rss "$serve_pid")
    echo "### (c) in-flight capacity: $jobs jobs, upstream latency ${latency} ms, 1536x1024 ($config build, $(nproc) cores, SQLite)"
    "$bench" capacity --atelier "http://127.0.0.1:$ap" --jobs "$jobs" --size 1536x1024 2>/dev/null
    peak=$(rss "$serve_pid")
    echo; echo "atelier serve RSS: idle peak before ${base} MiB, peak ${peak} MiB"
    ;;
  job-memory)
    echo "### (d) peak RSS growth of one job vs the image it received ($config build, $(nproc) cores, SQLite, 1536x1024 png, one job at a time)"
    for content in pattern noise; do
      sp=$(port)
      flag=(); [[ $content == noise ]] && flag=(--noise-images)
      "$bin" stand-in --port "$sp" "${flag[@]}" >"$tmp/standin-$content.log" 2>&1 & pids+=($!)
      wait_http "http://127.0.0.1:$sp/_standin/stats"
      echo; echo "stand-in images: $content"
      "$bench" job-memory --standin "http://127.0.0.1:$sp" --jobs "${2:-12}" 2>/dev/null
    done
    ;;
esac
