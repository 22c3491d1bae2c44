"""The account page's "copy MCP config": JSON for `atelier mcp` (stdio) and for HTTP clients of /mcp, with this
server's URL; a key only when the page has just created one (a placeholder otherwise); no key with login off."""
import json

from playwright.sync_api import Browser, expect

from conftest import Server, new_context
from test_accounts import PASSWORD, auth_server, setup_link, sign_up  # noqa: F401 - the login-on server fixture


def copied(page, button: str) -> dict:
    page.locator(button).click()
    expect(page.locator("#mcp-status")).to_contain_text("Copied")
    text = page.evaluate("navigator.clipboard.readText()")
    assert json.loads(page.locator("#mcp-config").text_content()) == json.loads(text)
    return json.loads(text)["mcpServers"]["atelier"]


def test_local_mode_config_needs_no_key(browser: Browser, server: Server):
    ctx = new_context(browser, server, width=375, height=800)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    page.goto("/account.html")
    stdio = copied(page, "#copy-mcp-stdio")
    assert stdio == {"command": "atelier", "args": ["mcp"], "env": {"ATELIER_URL": server.base_url}}
    http = copied(page, "#copy-mcp-http")
    assert http == {"type": "http", "url": f"{server.base_url}/mcp"}
    # At 375 px the section and its snippet fit the screen (the snippet wraps).
    wide = page.evaluate("[...document.querySelectorAll('section[aria-labelledby=mcp-title] *')]"
                         ".filter(e => e.getBoundingClientRect().right > 375).map(e => e.tagName + '#' + e.id)")
    assert wide == []
    ctx.close()


def test_a_new_key_is_filled_in_and_no_other_secret(browser: Browser, auth_server: Server):  # noqa: F811
    ctx = new_context(browser, auth_server)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    # The first admin through the setup link `serve` logs (a plain sign-up would wait for approval).
    page.goto(setup_link(auth_server))
    sign_up(page, "mcp-config@example.com")
    page.wait_for_url(lambda url: "/login.html" not in url)
    page.goto("/account.html")
    before = copied(page, "#copy-mcp-http")
    assert before["headers"]["Authorization"] == "Bearer PASTE-AN-API-KEY (atl_…)"
    page.locator("#new-key input[name=name]").fill("agent")
    page.locator("#new-key button[type=submit]").click()
    expect(page.locator("#keys-status")).to_contain_text("password")
    page.locator("#confirm-password").fill(PASSWORD)
    page.locator("#new-key button[type=submit]").click()
    expect(page.locator("#new-key-secret")).to_contain_text("atl_")
    secret = next(w for w in page.locator("#new-key-secret").text_content().split() if w.startswith("atl_"))
    after = copied(page, "#copy-mcp-stdio")
    assert after["env"] == {"ATELIER_URL": auth_server.base_url, "ATELIER_API_KEY": secret}
    ctx.close()
