"""Edit with markup: arrows, circles and notes drawn over the base image reach the upstream as the `markup` PNG,
the base image's size and transparent where nothing was drawn; mask and markup are one choice, never both."""
import io
import time

from PIL import Image
from playwright.sync_api import Page, expect

BASE_W, BASE_H = 800, 512


def drag(page: Page, box, start, end):
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    for i in range(1, 9):
        t = i / 8
        page.mouse.move(box["x"] + box["width"] * (start[0] + (end[0] - start[0]) * t),
                        box["y"] + box["height"] * (start[1] + (end[1] - start[1]) * t))
    page.mouse.up()


def test_markup_is_drawn_and_sent_instead_of_a_mask(page: Page, server, tmp_path):
    base = tmp_path / "base.png"
    Image.new("RGB", (BASE_W, BASE_H), (70, 120, 160)).save(base, "PNG")
    server.standin_clear()
    page.goto("/#/edit")
    edit = page.locator("#panel-edit")
    edit.locator("input[type=file][name=image_files]").set_input_files(str(base))
    expect(edit.locator(".tray-item")).to_have_count(1)
    edit.locator("details.options > summary").click()

    edit.get_by_label("Model", exact=True).select_option("gpt-image-2")
    expect(edit.get_by_role("radio", name="Markup")).to_be_disabled()
    edit.get_by_label("Model", exact=True).select_option("gpt-image-2.5-sunburst")
    edit.get_by_role("radio", name="Markup").check()
    expect(edit.locator(".painter-viewport")).to_be_hidden()

    canvas = edit.locator(".markup-canvas")
    expect(canvas).to_be_visible()
    page.wait_for_function(f"document.querySelector('#panel-edit .markup-canvas').width === {BASE_W}")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    drag(page, box, (0.1, 0.8), (0.45, 0.5))  # arrow
    edit.get_by_role("button", name="Circle").click()
    drag(page, box, (0.55, 0.2), (0.85, 0.6))
    edit.get_by_role("button", name="Note").click()
    edit.get_by_label("Note", exact=True).fill("hat")
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.9)

    edit.get_by_label("What should change?").fill("Put a red hat where the arrow points")
    edit.get_by_role("button", name="Apply edit").click()

    found = None
    deadline = time.monotonic() + 60
    while found is None and time.monotonic() < deadline:
        for r in reversed(server.standin_requests()):
            if r["path"].endswith("/images/edits"):
                found = r
                break
        else:
            time.sleep(0.2)
    assert found, "the stand-in saw no edit"
    names = [f["name"] for f in found["files"]]
    assert "markup" in names and "mask" not in names, names
    markup = Image.open(io.BytesIO(server.standin_file(found["index"], names.index("markup"))))
    assert markup.format == "PNG" and markup.size == (BASE_W, BASE_H) and markup.mode == "RGBA"
    alpha = markup.getchannel("A")
    assert alpha.getpixel((5, 5)) == 0 and alpha.getpixel((BASE_W - 5, BASE_H - 5)) == 0
    # The arrow's shaft passes through its middle, in the markup ink.
    mid = markup.getpixel((int(BASE_W * 0.275), int(BASE_H * 0.65)))
    assert mid[3] > 200 and mid[0] > 180 and mid[1] < 80, mid
    drawn = sum(alpha.histogram()[1:])
    assert 0.005 < drawn / (BASE_W * BASE_H) < 0.2, drawn
    card = page.locator("#panel-edit .job-card").first
    expect(card).to_have_attribute("data-status", "succeeded", timeout=60_000)


def test_markup_and_preview_options_fit_a_phone_and_work_by_keyboard(browser, server, tmp_path):
    from conftest import new_context

    server.api("PUT", "/v1/admin/settings", {"preview_formats": ["gif", "svg"]})
    base = tmp_path / "base.png"
    Image.new("RGB", (BASE_W, BASE_H), (200, 200, 200)).save(base, "PNG")
    ctx = new_context(browser, server, width=375, height=800)
    page = ctx.new_page()
    try:
        page.goto("/#/edit")
        edit = page.locator("#panel-edit")
        edit.locator("input[type=file][name=image_files]").set_input_files(str(base))
        expect(edit.locator(".tray-item")).to_have_count(1)
        edit.locator("details.options > summary").click()
        edit.get_by_label("Model", exact=True).select_option("gpt-image-2.5-flare")
        edit.get_by_label("Format", exact=True).select_option("gif")
        expect(edit.get_by_label("GIF frames")).to_be_visible()
        radio = edit.get_by_role("radio", name="Markup")
        radio.focus()
        page.keyboard.press("Space")
        expect(radio).to_be_checked()
        stage = edit.locator(".markup-stage")
        stage.focus()
        page.keyboard.press("Enter")  # places the arrow tool in the middle
        page.wait_for_function("""() => {
            const c = document.querySelector('#panel-edit .markup-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
            return false;
        }""")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the edit page is {width} px wide at 375 px"
    finally:
        ctx.close()
