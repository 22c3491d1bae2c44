"""The official OpenAI Python SDK against Atelier's stand-in upstream.

Asserts the SDK sends the same JSON / multipart field set that Atelier's Swift client sends for the same call
(the expected shapes below are the ones asserted in Tests/OpenAIImagesTests/ClientTests.swift), and that the
stand-in answers in a shape the SDK parses.

Setup: pip install openai==3.57.0 pytest
Run:   ATELIER_BIN=.build/debug/atelier pytest tests/sdk        (starts `atelier stand-in --port <free>`)
   or: ATELIER_STANDIN_URL=http://127.0.0.1:PORT pytest tests/sdk  (an already running stand-in)
"""

import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request
import zlib

import pytest

openai = pytest.importorskip("openai")

API_KEY = "sk-sdk-parity-test-key"

# Same call as ClientTests.generationSendsExactlyTheSetFieldsAndHeaders.
GENERATION_ARGS = dict(
    prompt="a red fox in the snow", model="gpt-image-2", n=1, size="1024x1024", quality="low",
    background="opaque", output_format="jpeg", output_compression=80, moderation="low",
    safety_identifier="user-hash-1",
)
EXPECTED_GENERATION_JSON = dict(GENERATION_ARGS)

# Same call as ClientTests.editWithOneImageUsesPartImage (the SDK's edit has no moderation parameter).
EDIT_ARGS = dict(
    prompt="make it blue", model="gpt-image-1.5", n=1, size="1024x1536", quality="medium",
    background="auto", output_format="png", input_fidelity="high",
)
EXPECTED_EDIT_FIELDS = {k: str(v) for k, v in EDIT_ARGS.items()}


def png(width, height, seed=0, alpha=False):
    """A tiny valid PNG (RGB or RGBA) without third-party packages."""
    channels = 4 if alpha else 3
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            pixel = [(x * 4 + seed) % 256, (y * 4 + seed * 3) % 256, (x + y + seed * 7) % 256]
            if alpha:
                pixel.append(0 if x < width // 2 else 255)
            row.extend(pixel)
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        data = response.read()
        return json.loads(data) if data else None


@pytest.fixture(scope="session")
def standin():
    url = os.environ.get("ATELIER_STANDIN_URL")
    if url:
        yield url.rstrip("/")
        return
    binary = os.environ.get("ATELIER_BIN")
    if not binary:
        pytest.skip("set ATELIER_BIN (the atelier executable) or ATELIER_STANDIN_URL")
    port = free_port()
    process = subprocess.Popen([binary, "stand-in", "--hostname", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # readiness: the server answers its stats endpoint
            try:
                http("GET", url + "/_standin/stats")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the stand-in did not start")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def sdk(standin):
    http("DELETE", standin + "/_standin/requests")
    client = openai.OpenAI(api_key=API_KEY, base_url=standin + "/v1", organization="org-123",
                           project="proj_456", max_retries=0, timeout=30)
    yield client
    client.close()


def recorded(standin):
    return http("GET", standin + "/_standin/requests")


def test_generation_json_matches_atelier_client(sdk, standin):
    result = sdk.images.generate(**GENERATION_ARGS)
    assert len(result.data) == 1
    assert base64.b64decode(result.data[0].b64_json)[:3] == b"\xff\xd8\xff"
    assert result.usage.output_tokens > 0 and result.usage.input_tokens_details.text_tokens >= 1
    assert result.size == "1024x1024" and result.quality == "low"
    [entry] = recorded(standin)
    assert entry["path"] == "/v1/images/generations"
    assert entry["json"] == EXPECTED_GENERATION_JSON
    assert "response_format" not in entry["json"]
    assert entry["authorization_present"] is True and "authorization" not in entry["headers"]
    assert entry["headers"]["openai-organization"] == "org-123"
    assert entry["headers"]["openai-project"] == "proj_456"
    assert entry["headers"]["content-type"] == "application/json"


def test_edit_single_image_matches_atelier_client(sdk, standin):
    image = png(64, 64, seed=1)
    result = sdk.images.edit(image=("photo.png", image, "image/png"), **EDIT_ARGS)
    assert len(result.data) == 1
    [entry] = recorded(standin)
    assert entry["fields"] == EXPECTED_EDIT_FIELDS
    assert [(f["name"], f["filename"], f["content_type"]) for f in entry["files"]] == [("image", "photo.png", "image/png")]
    assert entry["files"][0]["bytes"] == len(image)


def test_edit_sixteen_images_and_mask_part_names(sdk, standin):
    images = [(f"in{i}.png", png(32, 32, seed=i), "image/png") for i in range(16)]
    mask = ("mask.png", png(32, 32, seed=99, alpha=True), "image/png")
    result = sdk.images.edit(image=images, mask=mask, prompt="combine all", model="gpt-image-2",
                             size="1024x1024", quality="low")
    assert len(result.data) == 1
    assert result.usage.input_tokens_details.image_tokens == 16 * (65 + 129)
    [entry] = recorded(standin)
    assert [f["name"] for f in entry["files"]] == ["image[]"] * 16 + ["mask"]
    assert entry["files"][-1]["has_alpha"] is True
    assert entry["fields"] == {"prompt": "combine all", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}


def test_streaming_events_parse_in_the_sdk(sdk, standin):
    stream = sdk.images.generate(prompt="a lighthouse", model="gpt-image-2", size="1024x1024", quality="low",
                                 output_format="webp", stream=True, partial_images=2)
    types = [event.type for event in stream]
    assert types == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    [entry] = recorded(standin)
    assert entry["json"]["stream"] is True and entry["json"]["partial_images"] == 2


def test_errors_are_openai_shaped(sdk, standin):
    http("POST", standin + "/_standin/faults",
         json.dumps({"faults": [{"kind": "rate_limit", "retry_after": 3}]}).encode())
    with pytest.raises(openai.RateLimitError) as info:
        sdk.images.generate(prompt="x", model="gpt-image-2")
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.request_id.startswith("req_")
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.images.generate(prompt="x", model="gpt-image-2", response_format="b64_json")
    assert bad.value.code == "unknown_parameter" and bad.value.param == "response_format"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(prompt="x", model="dall-e-3")


# GIF and SVG output in the SDK's own shapes (the same fields Atelier's client sends; see
# Tests/AtelierServerTests/PreviewFormatJobTests.swift). The stand-in has preview access for every model whose
# registry preview_formats list the format.
def test_gif_and_svg_generations_in_the_sdks_json_shape(sdk, standin):
    gif = sdk.images.generate(prompt="a spinning top", model="gpt-image-2", size="1024x1024", quality="low",
                              output_format="gif", frame_count=3, frame_duration_ms=120)
    assert base64.b64decode(gif.data[0].b64_json)[:6] == b"GIF89a" and gif.output_format == "gif"
    svg = sdk.images.generate(prompt="a rocket icon", model="gpt-image-2", size="1024x1024", quality="low",
                              output_format="svg", svg={"model": "gpt-5.6-terra", "reasoning": {"effort": "low"}})
    assert b"<svg" in base64.b64decode(svg.data[0].b64_json)
    assert svg.svg_usage.model == "gpt-5.6-terra" and svg.svg_usage.reasoning_tokens == 250
    first, second = recorded(standin)
    assert first["json"]["frame_count"] == 3 and first["json"]["frame_duration_ms"] == 120
    assert second["json"]["svg"] == {"model": "gpt-5.6-terra", "reasoning": {"effort": "low"}}


def test_svg_edit_and_markup_in_the_sdks_multipart_shape(sdk, standin):
    image = png(64, 64, seed=2)
    sdk.images.edit(image=("photo.png", image, "image/png"), prompt="as a vector", model="gpt-image-2",
                    output_format="svg", svg={"model": "gpt-5.6-luna", "reasoning": {"effort": "none"}})
    sdk.images.edit(image=("photo.png", image, "image/png"), markup=("markup.png", png(64, 64, seed=3, alpha=True), "image/png"),
                    prompt="follow the arrow", model="gpt-image-2.5-sunburst")
    svg_edit, markup_edit = recorded(standin)
    assert svg_edit["fields"]["svg[model]"] == "gpt-5.6-luna" and svg_edit["fields"]["svg[reasoning][effort]"] == "none"
    assert [f["name"] for f in markup_edit["files"]] == ["image", "markup"]


def test_preview_format_mistakes_are_refused_like_the_upstream(sdk, standin):
    for kwargs, param in [
        (dict(output_format="gif", frame_count=17), "frame_count"),
        (dict(output_format="svg", n=2), "n"),
        (dict(output_format="gif", partial_images=2, stream=True), "stream"),
        (dict(output_format="png", frame_count=4), "frame_count"),
        (dict(model="gpt-image-1.5", output_format="gif"), "output_format"),
    ]:
        args = {"prompt": "x", "model": "gpt-image-2", **kwargs}
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.images.generate(**args)
        assert caught.value.param == param, (kwargs, caught.value.body)
