"""Edit: the mask painter's tools on the real canvas — brush, eraser, undo/redo (buttons and Ctrl+Z / Ctrl+Shift+Z),
invert, clear, and zoom (buttons and keys) — counted in the mask layer's pixels."""
from playwright.sync_api import Page, expect

from test_edit_mask import BASE_H, BASE_W, make_base

PAINTED = """() => {
  const c = document.querySelector('#panel-edit .painter-mask');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 127) n++;
  return n;
}"""


def stroke(page: Page, viewport, y_frac: float) -> None:
    box = viewport.bounding_box()
    assert box
    y = box["y"] + box["height"] * y_frac
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.6 * i / 10), y)
    page.mouse.up()


def test_brush_eraser_undo_redo_invert_clear_and_zoom(page: Page, tmp_path):
    base = tmp_path / "base.png"
    make_base(base)
    page.goto("/#/edit")
    panel = page.locator("#panel-edit")
    panel.locator("input[type=file][name=image_files]").set_input_files(str(base))
    viewport = panel.locator(".painter-viewport")
    expect(viewport).to_be_visible()
    page.wait_for_function(f"document.querySelector('#panel-edit .painter-mask')?.width === {BASE_W}")
    viewport.scroll_into_view_if_needed()
    tools = panel.get_by_role("toolbar", name="Mask tools")
    undo, redo = tools.get_by_role("button", name="Undo"), tools.get_by_role("button", name="Redo")
    expect(undo).to_be_disabled()

    stroke(page, viewport, 0.5)
    band = page.evaluate(PAINTED)
    assert 0 < band < BASE_W * BASE_H // 2
    expect(panel).to_contain_text("Mask ready")
    expect(undo).to_be_enabled()

    undo.click()
    assert page.evaluate(PAINTED) == 0
    expect(panel).to_contain_text("No mask")
    redo.click()
    assert page.evaluate(PAINTED) == band

    tools.get_by_role("button", name="Invert").click()
    assert page.evaluate(PAINTED) == BASE_W * BASE_H - band
    viewport.focus()
    page.keyboard.press("Control+z")
    assert page.evaluate(PAINTED) == band
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate(PAINTED) == BASE_W * BASE_H - band
    page.keyboard.press("Control+z")

    tools.get_by_role("button", name="Eraser").click()
    expect(tools.get_by_role("button", name="Eraser")).to_have_attribute("aria-pressed", "true")
    stroke(page, viewport, 0.5)
    assert page.evaluate(PAINTED) < band // 4
    page.keyboard.press("b")
    expect(tools.get_by_role("button", name="Brush")).to_have_attribute("aria-pressed", "true")
    stroke(page, viewport, 0.25)
    assert page.evaluate(PAINTED) > 0
    tools.get_by_role("button", name="Clear").click()
    assert page.evaluate(PAINTED) == 0
    expect(panel).to_contain_text("No mask")

    label = tools.locator(".zoom-label")
    expect(label).to_have_text("100%")
    expect(tools.get_by_role("button", name="Zoom out")).to_be_disabled()
    tools.get_by_role("button", name="Zoom in").click()
    expect(label).to_have_text("150%")
    viewport.focus()
    page.keyboard.press("+")
    expect(label).to_have_text("225%")
    page.keyboard.press("0")
    expect(label).to_have_text("100%")
