"""The official OpenAI Python SDK pointed at Atelier itself (base_url=<atelier>/v1, api_key=an Atelier key).

Atelier's POST /v1/images/generations and /v1/images/edits take what the SDK sends, run each call as an ordinary
job against the stand-in upstream, and answer in OpenAI's shapes; every call lands in the caller's history with
its cost.

Run: ATELIER_BIN=.build/debug/atelier pytest tests/sdk   (starts a stand-in and `atelier serve` with login on)
"""

import base64
import json
import os
import subprocess
import tempfile
import time
import urllib.request

import pytest

from test_sdk_parity import free_port, png

openai = pytest.importorskip("openai")


def get_bytes(url, key):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=70) as response:
        return response.read()


def get_json(url, key):
    return json.loads(get_bytes(url, key))


def wait_for(url, process, what):
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def atelier():
    binary = os.environ.get("ATELIER_BIN")
    if not binary:
        pytest.skip("set ATELIER_BIN (the atelier executable)")
    data = tempfile.mkdtemp(prefix="atelier-sdk-")
    standin_port, atelier_port = free_port(), free_port()
    env = dict(os.environ, DATA_DIR=data, OPENAI_API_KEY="sk-upstream-secret", LOG_LEVEL="warning",
               OPENAI_BASE_URL=f"http://127.0.0.1:{standin_port}/v1", BCRYPT_COST="4", OPENAI_PREVIEW_FORMATS="gif,svg")
    env.pop("DATABASE_URL", None)
    standin = subprocess.Popen([binary, "stand-in", "--hostname", "127.0.0.1", "--port", str(standin_port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes = [standin]
    try:
        wait_for(f"http://127.0.0.1:{standin_port}/_standin/stats", standin, "the stand-in")
        subprocess.run([binary, "migrate", "--yes"], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([binary, "users", "create", "ada@example.com", "--password", "correct horse battery"],
                       env=env, check=True, capture_output=True, timeout=60)
        created = subprocess.run([binary, "keys", "create", "ada@example.com", "--name", "sdk"],
                                 env=env, check=True, capture_output=True, text=True, timeout=60)
        key = next(word for word in created.stdout.split() if word.startswith("atl_"))
        serve = subprocess.Popen([binary, "serve", "--hostname", "127.0.0.1", "--port", str(atelier_port)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(serve)
        base = f"http://127.0.0.1:{atelier_port}"
        wait_for(base + "/healthz", serve, "atelier serve")
        yield base, key
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture()
def client(atelier):
    base, key = atelier
    sdk = openai.OpenAI(api_key=key, base_url=base + "/v1", max_retries=0, timeout=120)
    yield sdk
    sdk.close()


def test_generate_through_atelier_lands_in_history_with_cost(client, atelier):
    base, key = atelier
    raw = client.images.with_raw_response.generate(
        prompt="a lighthouse through the SDK", model="gpt-image-2", size="1024x1024", quality="low")
    result = raw.parse()
    assert base64.b64decode(result.data[0].b64_json)[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.usage.output_tokens > 0 and result.size == "1024x1024" and result.quality == "low"
    job_id = raw.headers["x-atelier-job-id"]
    # The answer is the upstream's own bytes, forwarded before the job commits (write-behind): wait for the job,
    # then find the very image the SDK got stored in history.
    job = get_json(f"{base}/v1/jobs/{job_id}?wait=60", key)
    assert job["status"] == "succeeded" and job["params"]["prompt"] == "a lighthouse through the SDK"
    assert job["cost_usd"] > 0 and job["usage"]["output_tokens"] == result.usage.output_tokens
    assert get_bytes(base + job["images"][0]["url"], key) == base64.b64decode(result.data[0].b64_json)


def test_edit_with_two_images_and_a_mask(client):
    result = client.images.edit(
        image=[("a.png", png(64, 64, seed=1), "image/png"), ("b.png", png(64, 64, seed=2), "image/png")],
        mask=("mask.png", png(64, 64, seed=3, alpha=True), "image/png"),
        prompt="blend them", model="gpt-image-2", size="1024x1024", quality="low")
    assert len(result.data) == 1
    assert base64.b64decode(result.data[0].b64_json)[:8] == b"\x89PNG\r\n\x1a\n"


def test_streamed_generation_sends_partials_then_the_image(client):
    stream = client.images.generate(
        prompt="a streamed kite", model="gpt-image-2", size="1024x1024", quality="low", stream=True,
        partial_images=2)
    events = list(stream)
    types = [event.type for event in events]
    assert types == ["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]
    assert [event.partial_image_index for event in events[:2]] == [0, 1]
    assert base64.b64decode(events[-1].b64_json)[:8] == b"\x89PNG\r\n\x1a\n"
    assert events[-1].usage.total_tokens > 0


def test_refusals_arrive_as_the_sdks_exceptions(client, atelier):
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="too big", model="gpt-image-2", size="4096x4096")
    assert refused.value.body["param"] == "size" and refused.value.body["code"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="atl_not_a_key", base_url=atelier[0] + "/v1", max_retries=0).images.generate(prompt="x")


def test_svg_and_gif_through_atelier_when_the_environment_enables_them(client, atelier):
    base, key = atelier
    raw = client.images.with_raw_response.generate(
        prompt="a rocket icon", model="gpt-image-2", size="1024x1024", quality="low", output_format="svg",
        svg={"model": "gpt-5.6-terra", "reasoning": {"effort": "high"}})
    svg = raw.parse()
    assert b"<svg" in base64.b64decode(svg.data[0].b64_json) and svg.output_format == "svg"
    assert svg.svg_usage.model == "gpt-5.6-terra" and svg.svg_usage.reasoning_tokens == 4000
    job = get_json(f"{base}/v1/jobs/{raw.headers['x-atelier-job-id']}?wait=60", key)
    assert job["usage"]["svg_usage"]["output_tokens"] == svg.svg_usage.output_tokens and job["cost_usd"] > 0
    gif = client.images.generate(prompt="a loop", model="gpt-image-2", size="1024x1024", quality="low",
                                 output_format="gif", frame_count=2)
    assert base64.b64decode(gif.data[0].b64_json)[:6] == b"GIF89a"
