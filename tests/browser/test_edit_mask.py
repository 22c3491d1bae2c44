"""Edit: a stroke painted on the mask canvas reaches the upstream as a PNG mask with alpha, at the base
image's natural size, transparent exactly where the stroke went."""
import io
import time

from PIL import Image
from playwright.sync_api import Page, expect

BASE_W, BASE_H = 640, 448  # deliberately not a display size


def make_base(path) -> None:
    img = Image.new("RGB", (BASE_W, BASE_H))
    px = img.load()
    for y in range(BASE_H):
        for x in range(BASE_W):
            px[x, y] = (40 + x * 180 // BASE_W, 90, 60 + y * 160 // BASE_H)
    img.save(path, "PNG")


def find_edit_with_mask(server):
    for r in reversed(server.standin_requests()):
        if r["path"].endswith("/images/edits"):
            names = [f["name"] for f in r.get("files", [])]
            if "mask" in names:
                return r["index"], r  # the stand-in's own request index (it keeps counting after a clear)
    return None


def test_painted_mask_reaches_upstream(page: Page, server, tmp_path):
    base = tmp_path / "base.png"
    make_base(base)
    server.standin_clear()

    page.goto("/#/edit")
    page.locator("#panel-edit input[type=file][name=image_files]").set_input_files(str(base))
    expect(page.locator("#panel-edit .tray-item")).to_have_count(1)
    viewport = page.locator("#panel-edit .painter-viewport")
    expect(viewport).to_be_visible()
    page.wait_for_function(f"document.querySelector('#panel-edit .painter-mask')?.width === {BASE_W}")

    # Horizontal stroke across the middle, from 25% to 75% of the width.
    viewport.scroll_into_view_if_needed()
    box = viewport.bounding_box()
    assert box
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(box["x"] + box["width"] * (0.25 + 0.5 * i / steps), y)
    page.mouse.up()
    expect(page.locator("#panel-edit")).to_contain_text("Mask ready")

    page.get_by_label("What should change?").fill("Turn the painted band into a calm river")
    page.locator("#panel-edit").get_by_role("button", name="Apply edit").click()

    found = None
    deadline = time.monotonic() + 60
    while found is None and time.monotonic() < deadline:
        found = find_edit_with_mask(server)
        if found is None:
            page.wait_for_timeout(200)
    assert found, f"the stand-in received no edit with a mask: {[r['path'] for r in server.standin_requests()]}"
    index, req = found

    files = req["files"]
    mask_i = next(i for i, f in enumerate(files) if f["name"] == "mask")
    images = [f for f in files if f["name"] in ("image", "image[]")]
    assert images, f"no image part in {files}"
    assert (images[0]["width"], images[0]["height"]) == (BASE_W, BASE_H)
    assert files[mask_i]["has_alpha"] is True

    mask = Image.open(io.BytesIO(server.standin_file(index, mask_i)))
    assert mask.format == "PNG"
    assert mask.size == (BASE_W, BASE_H)
    assert "A" in mask.getbands(), f"mask has no alpha channel (mode {mask.mode})"
    alpha = mask.getchannel("A")
    # On the stroke: transparent (= edit here).
    for fx in (0.3, 0.5, 0.7):
        assert alpha.getpixel((int(BASE_W * fx), BASE_H // 2)) == 0, f"not transparent on the stroke at x={fx}"
    # Far from it: opaque.
    for (x, y) in ((BASE_W // 2, 10), (BASE_W // 2, BASE_H - 10), (10, BASE_H // 2), (BASE_W - 10, BASE_H // 2), (5, 5)):
        assert alpha.getpixel((x, y)) == 255, f"not opaque far from the stroke at {(x, y)}"
    # Binary: only fully transparent or fully opaque pixels.
    hist = alpha.histogram()
    assert sum(hist[1:255]) == 0, "mask has partially transparent pixels"

    # The result shows a before/after comparison.
    card = page.locator("#panel-edit .job-card").first
    expect(card).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(card.locator(".compare")).to_have_count(1)
