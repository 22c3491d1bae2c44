"""The official MCP Python SDK as a client of Atelier, over both transports: stdio (`atelier mcp`, which calls the
server's REST API with ATELIER_API_KEY) and Streamable HTTP (`POST /mcp` with the key as bearer token).

Each transport: the client lists the eight tools (with schemas from the registry), generate_image makes a real
image through the stand-in and returns the job id, cost and a thumbnail as image content with progress
notifications, a bad size is a tool error naming the field `size`, an unknown argument names that argument,
and the image is a resource `atelier://images/{id}`.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json

import pytest

from conftest import BIN

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

TOOLS = {"generate_image", "edit_image", "create_mask", "get_job", "wait_for_job", "list_history",
         "estimate_cost", "list_models"}


@contextlib.asynccontextmanager
async def connect(transport: str, base: str, key: str):
    if transport == "http":
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
            async with streamable_http_client(base + "/mcp", http_client=http) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    yield session
    else:
        params = StdioServerParameters(command=BIN, args=["mcp"], env={"ATELIER_URL": base, "ATELIER_API_KEY": key})
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=120))


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_tools_generate_errors_and_resources(atelier, transport):
    base, key = atelier

    async def scenario():
        async with connect(transport, base, key) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == TOOLS
            schema = tools["generate_image"].input_schema
            assert schema["required"] == ["prompt"] and schema["additionalProperties"] is False
            assert "gpt-image-2" in schema["properties"]["model"]["enum"]

            bad = await session.call_tool("generate_image", {"prompt": "a fox", "size": "123x45"})
            assert bad.is_error
            assert bad.structured_content["error"]["field"] == "size", bad.structured_content
            assert bad.structured_content["error"]["code"] == "invalid_value"

            unknown = await session.call_tool("generate_image", {"prompt": "a fox", "colour": "red"})
            assert unknown.is_error and unknown.structured_content["error"]["field"] == "colour"

            progress = []

            async def on_progress(value, total, message):
                progress.append((value, message))

            made = await session.call_tool(
                "generate_image", {"prompt": f"a red fox over {transport}", "size": "1024x1024", "quality": "low"},
                progress_callback=on_progress)
            assert not made.is_error, made.content
            summary = json.loads(made.content[0].text)
            assert summary == made.structured_content
            assert summary["status"] == "succeeded" and summary["cost_usd"] > 0 and summary["job_id"]
            image = made.content[1]
            assert image.type == "image" and image.mime_type == "image/webp"
            assert base64.b64decode(image.data)[8:12] == b"WEBP"
            assert progress and progress[-1][1] == "succeeded"

            full = await session.call_tool("get_job", {"job_id": summary["job_id"], "full_image": True})
            assert full.content[1].mime_type == "image/png"
            assert base64.b64decode(full.content[1].data)[:8] == b"\x89PNG\r\n\x1a\n"

            uri = summary["images"][0]["uri"]
            listed = [str(resource.uri) for resource in (await session.list_resources()).resources]
            assert uri in listed
            read = await session.read_resource(uri)
            assert base64.b64decode(read.contents[0].blob)[:4] == b"\x89PNG"

    run(scenario())


def test_http_needs_a_valid_key(atelier):
    base, _ = atelier
    import urllib.error
    import urllib.request
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode()
    for headers in ({}, {"Authorization": "Bearer atl_wrong"}):
        request = urllib.request.Request(base + "/mcp", data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        assert json.loads(refused.value.read())["error"]["code"] in {"unauthenticated", "invalid_api_key"}


def test_stdio_says_why_it_cannot_start(atelier):
    import subprocess
    base, _ = atelier
    for env, reason in (({"ATELIER_URL": base, "ATELIER_API_KEY": "atl_wrong"}, "refused ATELIER_API_KEY"),
                        ({"ATELIER_URL": base}, "needs an API key"),
                        ({"ATELIER_URL": "http://127.0.0.1:9"}, "Cannot reach Atelier")):
        finished = subprocess.run([BIN, "mcp"], env=env, input="", capture_output=True, text=True, timeout=60)
        assert finished.returncode == 1
        assert reason in finished.stderr
        assert finished.stdout == ""
