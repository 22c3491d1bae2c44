"""History: search finds a job by a word of its prompt; delete removes it."""
import re
import uuid

from playwright.sync_api import Page, expect


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
