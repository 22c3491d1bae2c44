"""Model shutdown dates in a real browser, and the studio fixes of issue 11.

Dates act on the server's real clock, so the registry here (MODEL_REGISTRY_PATH) sets its dates relative to
today: nothing below depends on the calendar date. The same data folder is served twice: first with
gpt-image-1.5 still served (a job is made with it), then with its shutdown date reached (today).
"""
import datetime
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from conftest import ARTIFACTS, REPO, Server, _start, _stop, _wait_ready, free_port, new_context
from test_accounts import auth_server, setup_link, sign_up  # noqa: F401 - the login-on server fixture

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
SOON = TODAY + datetime.timedelta(days=10)


def registry_file(folder: Path, shutdown_15: datetime.date) -> Path:
    registry = json.loads((REPO / "Sources/AtelierCore/Resources/models.json").read_text())
    for model in registry["models"]:
        if model["id"] == "gpt-image-1-mini":
            model["shutdown_date"] = str(TODAY + datetime.timedelta(days=90))
        if model["id"] == "chatgpt-image-latest":
            model["shutdown_date"] = str(SOON)
        if model["id"] == "gpt-image-1.5":
            model["shutdown_date"] = str(shutdown_15)
    path = folder / f"models-{shutdown_15}.json"
    path.write_text(json.dumps(registry))
    return path


def serve(binary: Path, server: Server, tmp: Path, registry: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(OPENAI_API_KEY="sk-test-browser", OPENAI_BASE_URL=f"{server.standin_url}/v1", DATA_DIR=str(tmp / "data"),
               ATELIER_AUTH="off", MODEL_REGISTRY_PATH=str(registry))
    log = tmp / f"serve-dates-{registry.stem}.log"
    proc = _start([str(binary), "serve", "--hostname", "127.0.0.1", "--port", str(port)], env, log)
    _wait_ready(proc, f"http://127.0.0.1:{port}/healthz", log, "atelier serve (dated registry)")
    return proc, Server(f"http://127.0.0.1:{port}", server.standin_url)


@pytest.fixture(scope="module")
def dated(server: Server):
    """(job made with gpt-image-1.5 while it was served, the server on which 1.5 has shut down)."""
    binary = Path(os.environ.get("ATELIER_BIN", ".build/debug/atelier"))
    binary = binary if binary.is_absolute() else REPO / binary
    tmp = Path(tempfile.mkdtemp(prefix="atelier-dates-"))
    proc, before = serve(binary, server, tmp, registry_file(tmp, TODAY + datetime.timedelta(days=10)))
    try:
        job = before.create_job("a lighthouse before the shutdown", model="gpt-image-1.5")
    finally:
        _stop(proc)
    proc, after = serve(binary, server, tmp, registry_file(tmp, TODAY))
    try:
        yield job, after
    finally:
        _stop(proc)
        logs = ARTIFACTS / "server-logs"
        logs.mkdir(parents=True, exist_ok=True)
        for f in tmp.glob("*.log"):
            shutil.copy(f, logs / f.name)
        shutil.rmtree(tmp, ignore_errors=True)


def test_banner_before_shutdown_then_refusal_and_rerun_on_the_replacement(browser: Browser, dated):
    job, after = dated
    # The day it shuts down the model is refused locally, naming the replacement.
    status, body = after.api("POST", "/v1/generate", {"prompt": "x", "model": "gpt-image-1.5"})
    assert status == 400 and body["error"]["field"] == "model"
    assert "gpt-image-2.5-sunburst" in body["error"]["message"]

    ctx = new_context(browser, after)
    page = ctx.new_page()
    page.goto(f"/#/job/{job['id']}")
    page.get_by_role("button", name="Re-run").click()
    expect(page.locator("#toasts")).to_contain_text("gpt-image-1.5 was shut down on")
    expect(page.locator("#toasts")).to_contain_text("using gpt-image-2.5-sunburst instead")
    page.wait_for_url(lambda url: "#/job/" in url and job["id"] not in url)
    new_id = page.url.split("#/job/")[1]
    status, rerun = after.api("GET", f"/v1/jobs/{new_id}")
    assert status == 200 and rerun["params"]["model"] == "gpt-image-2.5-sunburst"

    # "Use as input" on the old job opens Edit on the replacement, with the same note.
    page.goto(f"/#/job/{job['id']}")
    page.get_by_role("button", name="Use as input").click()
    page.wait_for_url("**#/edit")
    expect(page.locator("#toasts")).to_contain_text("using gpt-image-2.5-sunburst instead")
    expect(page.locator("#panel-edit select[name=model]")).to_have_value("gpt-image-2.5-sunburst")
    ctx.close()


def test_studio_and_admin_show_a_banner_within_thirty_days(browser: Browser, dated):
    _, after = dated  # chatgpt-image-latest shuts down in 10 days; gpt-image-1-mini in 90 (no banner for it)
    status, models = after.api("GET", "/v1/models")
    assert [d["model"] for d in models["deprecations"]] == ["chatgpt-image-latest"]
    listed = next(m for m in models["data"] if m["id"] == "chatgpt-image-latest")
    assert listed["status"] == "deprecated" and listed["shutdown_date"] == str(SOON)
    assert next(m for m in models["data"] if m["id"] == "gpt-image-1-mini")["status"] == "deprecated"  # the data says so
    text = f"chatgpt-image-latest shuts down on {SOON} (in 10 days); use gpt-image-2.6-sunburst instead."
    ctx = new_context(browser, after, width=375)
    page = ctx.new_page()
    page.goto("/")
    expect(page.locator("#deprecation-banner")).to_have_text(f"Model shutdown: {text}")
    assert "gpt-image-1-mini" not in page.locator("#deprecation-banner").inner_text()
    page.goto("/admin.html")
    expect(page.locator("#deprecations")).to_have_text(f"Model shutdown: {text}")
    page.get_by_role("button", name="Compare with upstream").click()
    expect(page.locator("#models-check-result")).to_contain_text("Changed: chatgpt-image-latest shutdown_date")
    ctx.close()


def test_signed_in_header_fits_375_px_and_no_favicon_404(browser: Browser, auth_server: Server):  # noqa: F811
    ctx = new_context(browser, auth_server, width=375, height=800)
    page = ctx.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(setup_link(auth_server))  # the first admin (a plain sign-up would wait for approval)
    sign_up(page, "a.rather.long.address@example.com")
    page.wait_for_url(lambda url: "/login.html" not in url)
    expect(page.locator("#account-link")).to_be_visible()
    expect(page.locator("#admin-link")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "studio-signed-in-375.png"))
    # The banner for models shutting down soon (the bundled registry's dates, whichever they are today).
    models = page.evaluate("fetch('/v1/models').then(r => r.json())")  # as the signed-in page sees it
    banner = page.locator("#deprecation-banner")
    if models["deprecations"]:
        expect(banner).to_contain_text(f"{models['deprecations'][0]['model']} shuts down on")
    else:
        expect(banner).to_be_hidden()
    for path in ("/admin.html", "/account.html"):  # (their widths at 375 px are test_accounts' concern)
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert page.locator("link[rel=icon][href='/favicon.svg']").count() == 1
    assert not missing, f"404s: {missing}"
    assert page.request.get("/favicon.ico").status == 200
    assert page.request.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    ctx.close()


def test_the_day_it_shuts_down_sdk_mcp_batches_and_picker_refuse_it(browser: Browser, dated):
    """On the real clock, the day gpt-image-1.5 shuts down: the official SDK (generations, streaming, edits), the
    MCP tools and batches are refused naming the replacement, nothing reaches the upstream, and the studio's
    picker offers it only as a disabled "Retired" entry."""
    import asyncio
    import concurrent.futures
    import io

    import openai
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from PIL import Image

    _, after = dated
    replacement = "use 'gpt-image-2.5-sunburst' instead"
    upstream_before = len([r for r in after.standin_requests() if r["path"].startswith("/v1/images")])
    status, models = after.api("GET", "/v1/models")
    assert {"id": "gpt-image-1.5", "retired_on": str(TODAY), "replacement": "gpt-image-2.5-sunburst"} in models["retired"]
    assert "gpt-image-1.5" not in [m["id"] for m in models["data"]]

    client = openai.OpenAI(base_url=after.base_url + "/v1", api_key="local-browser-tests", max_retries=0)
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(png, "PNG")
    calls = [
        lambda: client.images.generate(model="gpt-image-1.5", prompt="x", size="1024x1024"),
        lambda: client.images.generate(model="gpt-image-1.5", prompt="x", stream=True, partial_images=1),
        lambda: client.images.edit(model="gpt-image-1.5", prompt="x", image=("a.png", png.getvalue(), "image/png")),
    ]
    for call in calls:
        with pytest.raises(openai.BadRequestError) as refused:
            call()
        assert refused.value.body["param"] == "model" and replacement in refused.value.body["message"]

    async def mcp_tools():
        async with create_mcp_http_client(headers={"Authorization": "Bearer local-browser-tests"}) as http_client:
            async with streamable_http_client(after.base_url + "/mcp", http_client=http_client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
                    assert "gpt-image-1.5" not in tools["generate_image"].input_schema["properties"]["model"]["enum"]
                    refused = await session.call_tool("generate_image", {"prompt": "x", "model": "gpt-image-1.5"})
                    assert refused.is_error and refused.structured_content["error"]["code"] == "model_retired"
                    assert replacement in refused.structured_content["error"]["message"]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(lambda: asyncio.run(asyncio.wait_for(mcp_tools(), timeout=60))).result()

    for mode in ("live", "openai_batch"):
        status, body = after.api("POST", "/v1/batches", {"name": "late", "mode": mode, "prompt": "a {{s}}", "csv": "s\nfox\n",
                                                         "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low"})
        assert status == 400 and body["errors"][0]["code"] == "model_retired", body
    assert len([r for r in after.standin_requests() if r["path"].startswith("/v1/images")]) == upstream_before

    ctx = new_context(browser, after, width=375)
    page = ctx.new_page()
    page.goto("/")
    option = page.locator("#panel-generate select[name=model] option[value='gpt-image-1.5']")
    expect(option).to_be_disabled()
    assert option.evaluate("o => o.parentElement.label") == "Retired"
    assert page.locator("#panel-generate select[name=model]").input_value() != "gpt-image-1.5"
    expect(page.locator("#deprecation-banner")).not_to_contain_text("gpt-image-1.5")
    ctx.close()


def yesterdays_studio(browser: Browser, after: Server):
    """A studio page whose catalogue is the one from before gpt-image-1.5 shut down (1.5 offered and chosen), with
    the real catalogue served from then on; returns (context, page, picker)."""
    _, models = after.api("GET", "/v1/models")
    replacement = next(m for m in models["data"] if m["id"] == "gpt-image-2.5-sunburst")
    before = dict(models, retired=[r for r in models["retired"] if r["id"] != "gpt-image-1.5"],
                  data=models["data"] + [dict(replacement, id="gpt-image-1.5", display_name="gpt-image-1.5")])
    served = []

    def yesterdays_catalogue(route):
        served.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(before))

    ctx = new_context(browser, after)
    page = ctx.new_page()
    page.clock.install()
    page.route("**/v1/models", yesterdays_catalogue)
    page.goto("/")
    picker = page.locator("#panel-generate select[name=model]")
    page.locator("#panel-generate details.options summary").click()
    expect(picker.locator("option[value='gpt-image-1.5']")).to_be_enabled()
    picker.select_option("gpt-image-1.5")
    page.unroute("**/v1/models")
    assert served, "the studio did not ask for the catalogue"
    return ctx, page, picker


def test_a_tab_open_across_the_shutdown_switches_to_the_replacement(browser: Browser, dated):
    """A studio tab loaded while gpt-image-1.5 was still served submits with it after the shutdown: the server
    refuses it naming the replacement, and the tab fetches the catalogue again, so its picker moves to the
    replacement with a note and offers 1.5 only as retired."""
    _, after = dated
    ctx, page, picker = yesterdays_studio(browser, after)
    page.locator("#panel-generate textarea[name=prompt]").fill("a lighthouse after the shutdown")
    page.locator("#panel-generate button[type=submit]").click()
    expect(page.locator("#panel-generate [data-error-for=model]")).to_contain_text("gpt-image-2.5-sunburst")
    expect(page.locator("#toasts")).to_contain_text("gpt-image-1.5 was shut down on")
    expect(picker).to_have_value("gpt-image-2.5-sunburst")
    expect(picker.locator("option[value='gpt-image-1.5']")).to_be_disabled()

    page.locator("#panel-generate button[type=submit]").click()  # submitting again makes the job on the replacement
    expect(page.locator("#panel-generate .results")).not_to_contain_text("Nothing here yet")
    ctx.close()


def test_a_tab_shown_again_after_half_an_hour_fetches_the_catalogue_again(browser: Browser, dated):
    """Without submitting anything: a tab that comes back into view more than 30 minutes after it fetched the
    catalogue fetches it again, and its picker moves off the model that shut down meanwhile."""
    _, after = dated
    ctx, page, picker = yesterdays_studio(browser, after)
    page.clock.fast_forward("31:00")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#toasts")).to_contain_text("using gpt-image-2.5-sunburst instead")
    expect(picker).to_have_value("gpt-image-2.5-sunburst")
    ctx.close()
