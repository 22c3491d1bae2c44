"""`atelier models check` as a script would run it: the real binary against `atelier stand-in`'s GET /v1/models.

Exit status 0 when the registry agrees, 1 when models are new, gone or changed (each printed on its own line),
2 when the upstream cannot be asked. Skipped without ATELIER_BIN (the test command sets it).
"""

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.fixture(scope="module")
def binary():
    path = os.environ.get("ATELIER_BIN")
    if not path:
        pytest.skip("set ATELIER_BIN (the atelier executable)")
    return path


@pytest.fixture(scope="module")
def standin(binary):
    port = free_port()
    process = subprocess.Popen([binary, "stand-in", "--hostname", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # readiness: the stand-in answers its stats endpoint
        try:
            http("GET", url + "/_standin/stats")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def check(binary, base_url, *args):
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "OPENAI_API_KEY": "sk-models-check", "OPENAI_BASE_URL": base_url, "DATA_DIR": data,
               "LOG_LEVEL": "error"}
        env.pop("DATABASE_URL", None)
        return subprocess.run([binary, "models", "check", *args], env=env, capture_output=True, text=True, timeout=60)


def test_agreement_exits_zero(binary, standin):
    http("DELETE", standin + "/_standin/models")
    result = check(binary, standin + "/v1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agrees" in result.stdout


def test_differences_are_printed_and_exit_one(binary, standin):
    registry = json.load(open(os.path.join(os.path.dirname(__file__), "../../Sources/AtelierCore/Resources/models.json")))
    listed = [{"id": m["id"], "shutdown_date": m["shutdown_date"]} for m in registry["models"] if m["id"] != "gpt-image-2.5-flare"]
    listed = [dict(m, shutdown_date="2027-05-01") if m["id"] == "gpt-image-2.6-sunburst" else m for m in listed]
    http("PUT", standin + "/_standin/models", listed + [{"id": "gpt-image-3"}, {"id": "o9-mini"}])
    try:
        result = check(binary, standin + "/v1")
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert "new      gpt-image-3: listed upstream, not in the registry" in lines
        assert "gone     gpt-image-2.5-flare: in the registry, no longer listed upstream" in lines
        assert "changed  gpt-image-2.6-sunburst shutdown_date: registry none, upstream 2027-05-01" in lines
        assert not any("o9-mini" in line for line in lines)
        as_json = json.loads(check(binary, standin + "/v1", "--json").stdout)
        assert as_json["new"] == ["gpt-image-3"] and as_json["gone"] == ["gpt-image-2.5-flare"]
    finally:
        http("DELETE", standin + "/_standin/models")


def test_unreachable_upstream_exits_two(binary):
    result = check(binary, f"http://127.0.0.1:{free_port()}/v1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not be read" in result.stdout + result.stderr
