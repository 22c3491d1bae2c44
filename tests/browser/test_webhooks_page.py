"""My account → Webhooks in a real browser, by keyboard: add an endpoint (the secret is shown once), see a job's
delivery in its log, delete it; the section fits a 375 px phone."""
from playwright.sync_api import Page, expect

from conftest import ARTIFACTS, Server


def test_add_an_endpoint_read_its_deliveries_and_delete_it_by_keyboard(page: Page, server: Server):
    page.goto("/account.html")
    expect(page.locator("#hooks")).to_contain_text("No endpoints yet.")
    url = page.get_by_label("URL")
    url.focus()
    page.keyboard.type("https://8.8.8.8/atelier-hooks")
    page.keyboard.press("Tab")  # job.succeeded (checked)
    page.keyboard.press("Tab")  # job.failed (checked)
    page.keyboard.press("Tab")  # job.canceled
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    secret = page.locator("#new-hook-secret")
    expect(secret).to_contain_text("whsec_")
    row = page.locator("#hooks tr", has_text="https://8.8.8.8/atelier-hooks")
    expect(row).to_contain_text("job.succeeded, job.failed, job.canceled")

    # A private address is refused with the server's explanation.
    url.fill("http://127.0.0.1:9/hook")
    url.press("Enter")
    expect(page.locator("#hooks-status")).to_contain_text("private address")

    # A finished job's event is in the endpoint's delivery log.
    server.create_job("a lantern for the webhook log")
    row.get_by_role("button", name="Deliveries").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#deliveries")).to_contain_text("job.succeeded")

    page.set_viewport_size({"width": 375, "height": 800})
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "account-webhooks-375-light.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    row.get_by_role("button", name="Delete the endpoint https://8.8.8.8/atelier-hooks").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#hooks")).to_contain_text("No endpoints yet.")
    expect(page.locator("#hook-deliveries")).to_be_hidden()
