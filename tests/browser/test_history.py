"""History: search finds a job by a word of its prompt; delete removes it."""
import re
import uuid

from playwright.sync_api import Page, expect

from conftest import http


def test_history_search_and_delete(page: Page, server):
    word = f"zebrafinch{uuid.uuid4().hex[:8]}"
    target = server.create_job(f"A small {word} on a snowy branch")
    server.create_job("A plain white teapot on a table")

    page.goto("/#/history")
    expect(page.locator("#panel-history .h-card:not(.is-skeleton)").first).to_be_visible()
    page.locator("#panel-history").get_by_label("Search").fill(word)
    cards = page.locator("#panel-history .h-card:not(.is-skeleton)")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(word)
    expect(cards.first).to_have_attribute("data-job-id", target["id"])

    cards.first.locator("a.h-thumb").click()
    expect(page).to_have_url(re.compile(rf"#/job/{target['id']}$"))
    expect(page.locator("#panel-job .detail-prompt")).to_contain_text(word)

    page.locator("#panel-job").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()

    expect(page).to_have_url(re.compile(r"#/history$"))
    expect(page.locator("#panel-history").get_by_label("Search")).to_have_value(word)
    expect(page.locator("#panel-history").get_by_text("No matching jobs")).to_be_visible()
    expect(page.locator(f'#panel-history .h-card[data-job-id="{target["id"]}"]')).to_have_count(0)
    status, _ = server.api("GET", f"/v1/jobs/{target['id']}")
    assert status == 404


def test_history_follows_running_jobs_live(page: Page, server):
    """A job created while History is open appears at the top and moves to succeeded without a reload."""
    page.goto("/#/history")
    grid = page.locator("#panel-history .history-grid")
    expect(grid).to_have_attribute("data-live", "true")
    expect(grid).to_have_attribute("aria-busy", "false")
    # The next upstream call waits 3 s, so the job is seen queued/running first.
    status, _, _ = http("POST", server.standin_url + "/_standin/faults", {"faults": [{"kind": "hang", "seconds": 3}]})
    assert status == 200
    status, job = server.api("POST", "/v1/generate", {"prompt": f"live {uuid.uuid4().hex[:8]}", "size": "1024x1024", "quality": "low"})
    assert status == 202, job
    card = page.locator(f'#panel-history .h-card[data-job-id="{job["id"]}"]')
    expect(card).to_have_attribute("data-status", re.compile(r"^(queued|running)$"))
    expect(page.locator("#panel-history .h-card:not(.is-skeleton)").first).to_have_attribute("data-job-id", job["id"])
    expect(card).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"/v1/images/.+/thumbnail"))
