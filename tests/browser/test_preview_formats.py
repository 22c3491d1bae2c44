"""GIF and SVG output in the studio: offered once the admin setting enables them, sent upstream in the SDK's
shape, shown as <img> (the GIF animates, the SVG is never inline markup) and served with a sandboxing CSP."""
import io
import uuid

from PIL import Image
from playwright.sync_api import Page, expect

from conftest import REPO, http

JOB_TIMEOUT = 60_000


def fetch(server, path):
    status, body, headers = http("GET", server.base_url + path)
    return status, body, {k.lower(): v for k, v in headers.items()}


def enable_previews(server, formats):
    status, settings = server.api("PUT", "/v1/admin/settings", {"preview_formats": formats})
    assert status == 200 and settings["preview_formats"] == sorted(formats), settings


def last_generation(server):
    gens = [r for r in server.standin_requests() if r["path"].endswith("/images/generations")]
    assert gens, "the stand-in saw no generation"
    return gens[-1].get("json") or {}


def open_options(page: Page, model: str):
    page.goto("/#/generate")
    page.locator("#panel-generate details.options > summary").click()
    panel = page.locator("#panel-generate")
    panel.get_by_label("Model", exact=True).select_option(model)
    return panel


def start(page: Page, server, prompt: str, format: str):
    """Previews on, a fresh stand-in log, gpt-image-2 at 1024x1024 low quality in `format`."""
    enable_previews(server, ["gif", "svg"])
    server.standin_clear()
    panel = open_options(page, "gpt-image-2")
    panel.get_by_label("Describe the image").fill(f"{prompt} {uuid.uuid4().hex[:6]}")
    panel.get_by_label("Size", exact=True).select_option("1024x1024")
    panel.get_by_label("Quality", exact=True).select_option("low")
    panel.get_by_label("Format", exact=True).select_option(format)
    return panel


def finished_image(page: Page):
    card = page.locator("#panel-generate .job-card").first
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT)
    img = card.locator("img.result").first
    expect(img).to_be_visible()
    page.wait_for_function("(i) => i.complete && i.naturalWidth > 0", arg=img.element_handle(), timeout=JOB_TIMEOUT)
    return card, img


def test_gif_and_svg_are_offered_only_when_enabled_and_for_models_that_list_them(page: Page, server):
    enable_previews(server, [])
    panel = open_options(page, "gpt-image-2")
    formats = panel.get_by_label("Format", exact=True)
    assert formats.locator("option").all_inner_texts() == ["PNG", "JPEG", "WebP"]
    enable_previews(server, ["gif", "svg"])
    page.reload()
    panel = open_options(page, "gpt-image-2")
    assert "GIF" in panel.get_by_label("Format", exact=True).locator("option").all_inner_texts()


def test_a_model_that_lists_no_previews_is_offered_none(browser, server, tmp_path):
    """Every served model of the bundled registry lists GIF and SVG since the 1.x models shut down (2026-12-01), so
    a registry (MODEL_REGISTRY_PATH) where gpt-image-2.5-flare lists none is served on its own."""
    import json
    import os
    from pathlib import Path

    from conftest import _stop, new_context
    from test_model_dates import serve

    registry = json.loads((REPO / "Sources/AtelierCore/Resources/models.json").read_text())
    for model in registry["models"]:
        if model["id"] == "gpt-image-2.5-flare":
            model["preview_formats"] = []
    path = tmp_path / "models-no-previews.json"
    path.write_text(json.dumps(registry))
    binary = Path(os.environ.get("ATELIER_BIN", ".build/debug/atelier"))
    binary = binary if binary.is_absolute() else REPO / binary
    proc, own = serve(binary, server, tmp_path, path)
    try:
        enable_previews(own, ["gif", "svg"])
        context = new_context(browser, own)
        page = context.new_page()
        panel = open_options(page, "gpt-image-2")
        assert "GIF" in panel.get_by_label("Format", exact=True).locator("option").all_inner_texts()
        panel.get_by_label("Model", exact=True).select_option("gpt-image-2.5-flare")
        assert "GIF" not in panel.get_by_label("Format", exact=True).locator("option").all_inner_texts()
        context.close()
    finally:
        _stop(proc)


def test_gif_generation_plays_in_the_studio(page: Page, server):
    panel = start(page, server, "a spinning top", "gif")
    expect(panel.get_by_label("Live previews")).to_be_hidden()
    panel.get_by_label("GIF frames").fill("3")
    panel.get_by_label("Frame duration (ms)").fill("120")
    panel.get_by_role("button", name="Generate", exact=True).click()
    card, img = finished_image(page)

    sent = last_generation(server)
    assert sent["output_format"] == "gif" and sent["frame_count"] == 3 and sent["frame_duration_ms"] == 120
    assert "stream" not in sent and "partial_images" not in sent
    src = img.get_attribute("src")
    status, body, headers = fetch(server, src)
    assert status == 200 and headers["content-type"] == "image/gif"
    gif = Image.open(io.BytesIO(body))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.info["duration"] == 120
    download = card.locator("a[download]").first
    assert download.get_attribute("download").endswith(".gif")


def test_svg_generation_is_an_image_never_inline_markup(page: Page, server):
    panel = start(page, server, "a flat rocket icon", "svg")
    expect(panel.get_by_label("Images", exact=True)).to_be_disabled()
    panel.get_by_label("SVG author").select_option("gpt-5.6-luna")
    panel.get_by_label("SVG reasoning").select_option("low")
    panel.get_by_role("button", name="Generate", exact=True).click()
    card, img = finished_image(page)

    sent = last_generation(server)
    assert sent["output_format"] == "svg" and sent["n"] == 1
    assert sent["svg"] == {"model": "gpt-5.6-luna", "reasoning": {"effort": "low"}}
    # Shown through <img> from a URL: no <svg> element of the document is in the page.
    assert card.locator("svg rect, svg circle[fill]").count() == 0
    status, body, headers = fetch(server, img.get_attribute("src"))
    assert status == 200 and headers["content-type"] == "image/svg+xml" and b"<svg" in body
    assert headers["content-security-policy"].startswith("sandbox") and headers["x-content-type-options"] == "nosniff"
    job_id = card.get_attribute("data-job-id")
    _, job = server.api("GET", f"/v1/jobs/{job_id}")
    assert job["usage"]["svg_usage"]["model"] == "gpt-5.6-luna" and job["cost_usd"] > 0
