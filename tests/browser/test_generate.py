"""Generate: images appear live, History shows the job; the whole flow works by keyboard alone."""
import re
import uuid

from playwright.sync_api import Page, expect

JOB_TIMEOUT = 60_000


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def wait_images_loaded(page: Page, scope_selector: str) -> None:
    page.wait_for_function(
        """(sel) => {
            const root = document.querySelector(sel);
            const imgs = root ? [...root.querySelectorAll('img.result')] : [];
            return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=scope_selector,
        timeout=JOB_TIMEOUT,
    )


def test_generate_shows_images_and_history(page: Page, server):
    word = unique("lighthouse")
    server.standin_clear()
    page.goto("/#/generate")
    page.get_by_label("Describe the image").fill(f"A calm {word} on a cliff at dusk")
    page.locator("#panel-generate details.options > summary").click()
    page.locator("#panel-generate").get_by_label("Images", exact=True).fill("2")
    page.locator("#panel-generate").get_by_role("button", name="Generate", exact=True).click()

    card = page.locator("#panel-generate .job-card").first
    # Placeholders are there at once (reserved aspect-ratio boxes), then the images.
    expect(card.locator(".tile")).to_have_count(2)
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT)
    expect(card.locator("img.result")).to_have_count(2)
    wait_images_loaded(page, "#panel-generate .job-card")
    job_id = card.get_attribute("data-job-id")
    assert job_id

    # The request really went upstream (to the stand-in) with our prompt.
    reqs = server.standin_requests()
    gens = [r for r in reqs if r["path"].endswith("/images/generations")]
    assert gens, f"stand-in saw no generation request: {[r['path'] for r in reqs]}"
    assert word in (gens[-1].get("json") or {}).get("prompt", "")

    page.get_by_role("tab", name="History").click()
    expect(page).to_have_url(re.compile(r"#/history$"))
    hcard = page.locator(f'#panel-history .h-card[data-job-id="{job_id}"]')
    expect(hcard).to_be_visible()
    expect(hcard).to_contain_text(word)
    expect(hcard.locator("img")).to_be_visible()


def test_keyboard_only_generate(page: Page, server):
    page.goto("/#/generate")
    expect(page.locator("#panel-generate textarea[name=prompt]")).to_be_visible()

    # Tab from the top of the page to the prompt.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.getAttribute('name') === 'prompt' && !!document.activeElement.closest('#panel-generate')"):
            break
    else:
        raise AssertionError("the prompt is not reachable with Tab")
    # Focus is visible.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    word = unique("keyboard")
    page.keyboard.type(f"A paper crane, {word}")
    page.keyboard.press("Control+Enter")
    first = page.locator(f'#panel-generate .job-card:has-text("{word}")')
    expect(first).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT)

    # Second path: Tab on to the Generate button and press Enter.
    page.locator("#panel-generate textarea[name=prompt]").focus()
    word2 = unique("enterkey")
    page.keyboard.press("Control+A")
    page.keyboard.type(f"A glass teapot, {word2}")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.type === 'submit' && document.activeElement.textContent.trim() === 'Generate'"):
            break
    else:
        raise AssertionError("the Generate button is not reachable with Tab")
    page.keyboard.press("Enter")
    second = page.locator(f'#panel-generate .job-card:has-text("{word2}")')
    expect(second).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT)

    # The tablist works with arrow keys.
    page.locator('[role="tab"][aria-selected="true"]').focus()
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"#/edit$"))
    expect(page.get_by_role("tab", name="Edit")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Edit")).to_be_focused()
    page.keyboard.press("End")
    expect(page).to_have_url(re.compile(r"#/history$"))
