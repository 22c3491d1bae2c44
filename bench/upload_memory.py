#!/usr/bin/env python3
"""Peak server memory while accepting one edit request of 16 large images (issue 4's upload benchmark).

Starts `atelier stand-in` and `atelier serve` (auth off, loopback), sends 16 noisy PNGs of about 20 MB each
(plus a mask) as one multipart request streamed from disk, waits for the job to finish, and prints a table
of the server's peak RSS (VmHWM) before and after against the request size.

Usage: python3 bench/upload_memory.py [--accept-only] [ATELIER_BIN]   (default .build/debug/atelier)
"""
import http.client, json, os, socket, subprocess, sys, tempfile, time, uuid, zlib, struct, random

ACCEPT_ONLY = "--accept-only" in sys.argv  # no worker: measures accepting the upload alone
ARGS = [a for a in sys.argv[1:] if a != "--accept-only"]
BIN = ARGS[0] if ARGS else ".build/debug/atelier"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def noisy_png(path, width, height, seed):
    """An RGB PNG of random bytes (incompressible), written row by row."""
    rng = random.Random(seed)
    raw = bytearray()
    for _ in range(height):
        raw.append(0)
        raw.extend(rng.getrandbits(8 * width * 3).to_bytes(width * 3, "little"))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(raw), 1)) + chunk(b"IEND", b""))


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_ready(port, path="/healthz", deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {port} not ready")


def main():
    work = tempfile.mkdtemp(prefix="atelier-upload-bench-")
    # 2640x2520 RGB noise ≈ 20 MB PNG
    files = []
    for i in range(16):
        path = os.path.join(work, f"in{i}.png")
        noisy_png(path, 2640, 2520, i)
        files.append(path)
    sizes = [os.path.getsize(p) for p in files]
    standin, server = free_port(), free_port()
    env = dict(os.environ, OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=f"http://127.0.0.1:{standin}/v1",
               DATA_DIR=os.path.join(work, "data"), ATELIER_AUTH="off", LOG_LEVEL="warning",
               WORKER_ENABLED="false" if ACCEPT_ONLY else "true")
    procs = [subprocess.Popen([BIN, "stand-in", "--hostname", "127.0.0.1", "--port", str(standin)], env=env),
             subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(server)], env=env)]
    try:
        wait_ready(standin, "/_standin/stats"); wait_ready(server)
        pid = procs[1].pid
        before = peak_rss_kb(pid)
        boundary = uuid.uuid4().hex
        parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nbench\r\n').encode(),
                 (f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-image-2\r\n').encode()]
        heads = [(f'--{boundary}\r\nContent-Disposition: form-data; name="image[]"; filename="in{i}.png"\r\n'
                  'Content-Type: image/png\r\n\r\n').encode() for i in range(16)]
        tail = f"--{boundary}--\r\n".encode()
        total = sum(map(len, parts)) + sum(map(len, heads)) + sum(sizes) + 2 * 16 + len(tail)
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=600)
        conn.putrequest("POST", "/v1/edit")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(total))
        conn.putheader("Authorization", "Bearer local-bench")  # login off: a local tool needs no CSRF token
        conn.endheaders()
        for p in parts:
            conn.send(p)
        started = time.time()
        for head, path in zip(heads, files):
            conn.send(head)
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    conn.send(block)
            conn.send(b"\r\n")
        conn.send(tail)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        accepted = time.time() - started
        job = body.get("id")
        status = body.get("status")
        end = time.time() + 600
        while not ACCEPT_ONLY and job and status not in ("succeeded", "failed", "canceled") and time.time() < end:
            c = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
            c.request("GET", f"/v1/jobs/{job}?")
            status = json.loads(c.getresponse().read()).get("status")
            time.sleep(0.2)
        after = peak_rss_kb(pid)
        mb = 1024 * 1024
        print("| what | value |\n|---|---|")
        print(f"| request | 16 images, {total / mb:.0f} MB (largest file {max(sizes) / mb:.1f} MB) |")
        print(f"| HTTP status / job status | {resp.status} / {status} |")
        print(f"| upload + checks until 202 | {accepted:.1f} s |")
        print(f"| server peak RSS before | {before / 1024:.0f} MB |")
        print(f"| server peak RSS after the job | {after / 1024:.0f} MB |")
        print(f"| peak growth / request size | {(after - before) / 1024:.0f} MB / {total / mb:.0f} MB = {(after - before) * 1024 / total:.2f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
