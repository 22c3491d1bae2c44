#!/usr/bin/env python3
"""How fast `POST /v1/batches` validates and creates a big batch, and the server's peak memory (issue 15 item 5).

Starts `atelier serve` (auth off, loopback, worker off so only validation and creation are measured; SQLite in a
temporary folder, or PostgreSQL when DATABASE_URL is set), then for each size posts a CSV of that many rows to
`/v1/batches/validate` and to `/v1/batches`, and prints a markdown table: seconds, rows/s and the server's peak
RSS (VmHWM) after each step, and the server's CPU seconds for it (user + system: steadier than wall time on a
busy machine). Not a test.

Usage: python3 bench/batch_create.py [ATELIER_BIN] [ROWS ...]   (default .build/debug/atelier 1000 10000 50000)
"""
import http.client, json, os, socket, subprocess, sys, tempfile, time

ARGS = sys.argv[1:]
BIN = ARGS[0] if ARGS and not ARGS[0].isdigit() else ".build/debug/atelier"
SIZES = [int(a) for a in ARGS if a.isdigit()] or [1000, 10000, 50000]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """The process's user + system CPU time (less sensitive to a loaded machine than wall time)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    data = json.dumps(body).encode()
    start = time.perf_counter()
    conn.request("POST", path, data, {"Content-Type": "application/json", "Authorization": "Bearer local-tool"})
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    return response.status, payload, time.perf_counter() - start


def wait_ready(port, deadline=120):
    end = time.time() + deadline
    while time.time() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {port} not ready")


def csv(rows):
    lines = ["subject,style"] + [f'"lighthouse {i}, at dusk",watercolour' for i in range(1, rows + 1)]
    return "\n".join(lines) + "\n"


def main():
    work = tempfile.mkdtemp(prefix="atelier-batch-bench-")
    port = free_port()
    env = dict(os.environ, OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
               DATA_DIR=os.path.join(work, "data"), ATELIER_AUTH="off", LOG_LEVEL="warning", WORKER_ENABLED="false",
               GLOBAL_DAILY_CAP_USD="none", DEFAULT_DAILY_CAP_USD="none")
    server = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(port)], env=env)
    try:
        wait_ready(port)
        database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        print(f"| database | rows | body (MB) | step | seconds | rows/s | server CPU s | peak RSS (MiB) |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {database} | – | – | idle | – | – | – | {peak_rss_mib(server.pid):.1f} |")
        for rows in SIZES:
            body = {"name": f"bench {rows}", "prompt": "a {{subject}} in {{style}}", "csv": csv(rows),
                    "quality": "low", "size": "1024x1024"}  # the registry's default model
            megabytes = len(json.dumps(body)) / 1e6
            for step, path, expected in (("validate", "/v1/batches/validate", 200), ("create", "/v1/batches", 201)):
                cpu = cpu_seconds(server.pid)
                status, payload, seconds = post(port, path, body)
                cpu = cpu_seconds(server.pid) - cpu
                if status != expected or payload.get("valid") is False:
                    raise SystemExit(f"{path} answered {status}: {str(payload)[:300]}")
                print(f"| {database} | {rows} | {megabytes:.2f} | {step} | {seconds:.2f} | {rows / seconds:,.0f} | {cpu:.2f} "
                      f"| {peak_rss_mib(server.pid):.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
