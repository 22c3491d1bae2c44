"""Screenshots of every screen at 1280 and 375 px, light and dark; no horizontal overflow at 375 px."""
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from conftest import SCREENSHOTS, new_context, watch_errors

ROUTES = ["generate", "edit", "history", "job"]


@pytest.fixture(scope="module")
def sample_job(server):
    return server.create_job("A quiet harbour at dawn, mist over the water, soft film grain")


def wait_settled(page: Page) -> None:
    # A full-page screenshot does not scroll, so load lazy images now.
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        """() => {
            const panel = [...document.querySelectorAll('.panel')].find(p => !p.hidden);
            if (!panel || panel.getAttribute('aria-busy') === 'true') return false;
            if (panel.querySelector('.is-skeleton, .skeleton-block')) return false;
            return [...panel.querySelectorAll('img')].every(i => !i.getAttribute('src') || (i.complete && i.naturalWidth > 0));
        }""",
        timeout=30_000,
    )
    page.evaluate("document.fonts.ready")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots(browser, server, sample_job, width, scheme, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ctx = new_context(browser, server, width=width, height=900 if width > 400 else 812, color_scheme=scheme)
    page = ctx.new_page()
    errors: list[str] = []
    watch_errors(page, errors)  # also every Content-Security-Policy violation
    page.emulate_media(reduced_motion="reduce")  # no fade-in transitions half-way in the pictures
    base = tmp_path / "base.png"
    img = Image.new("RGB", (768, 512), (70, 110, 150))
    ImageDraw.Draw(img).ellipse([260, 120, 510, 400], fill=(230, 190, 90))
    img.save(base)
    try:
        for route in ROUTES:
            target = f"/#/job/{sample_job['id']}" if route == "job" else f"/#/{route}"
            page.goto(target)
            if route == "history":
                expect(page.locator("#panel-history .h-card:not(.is-skeleton)").first).to_be_visible()
            elif route == "job":
                expect(page.locator("#panel-job .detail-side")).to_be_visible()
            elif route == "edit":
                page.locator("#panel-edit input[type=file][name=image_files]").set_input_files(str(base))
                expect(page.locator("#panel-edit .painter-viewport")).to_be_visible()
            else:
                page.locator("#panel-generate textarea[name=prompt]").fill("A lighthouse on a cliff at dusk, long exposure")
                page.locator("#panel-generate").get_by_role("button", name="Generate", exact=True).click()
                card = page.locator("#panel-generate .job-card").first
                expect(card).to_have_attribute("data-status", "succeeded", timeout=60_000)
            wait_settled(page)
            dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            assert dark == (scheme == "dark")
            out = SCREENSHOTS / f"{route}-{width}-{scheme}.png"
            page.screenshot(path=str(out), full_page=True)
            assert out.exists() and out.stat().st_size > 1000
            if width <= 375:
                sw = page.evaluate("document.documentElement.scrollWidth")
                assert sw <= 375, f"{route}: horizontal overflow at 375 px (scrollWidth {sw})"
    finally:
        ctx.close()
    assert not errors, f"uncaught page errors or CSP violations: {errors}"
