"""Accounts in a real browser: with login on (the default) and SIGNUP=approval (the default), the studio sends a
visitor to sign in; the first admin comes from the setup link `serve` prints; a stranger's account waits for the
admin's approval; an invitation skips it; the studio's writes carry the CSRF token; `next=` never leaves the site;
the account and admin pages work."""
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import ARTIFACTS, REPO, Server, _start, _stop, _wait_ready, free_port, new_context, wait_until, watch_errors

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth_server(server: Server):
    """A second `atelier serve` with login required, on the same stand-in."""
    binary = Path(os.environ.get("ATELIER_BIN", ".build/debug/atelier"))
    if not binary.is_absolute():
        binary = REPO / binary
    tmp = Path(tempfile.mkdtemp(prefix="atelier-auth-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATELIER_AUTH", "SIGNUP")}
    env.update(OPENAI_API_KEY="sk-test-browser", OPENAI_BASE_URL=f"{server.standin_url}/v1", DATA_DIR=str(tmp / "data"))
    log = tmp / "serve-auth.log"
    proc = _start([str(binary), "serve", "--hostname", "127.0.0.1", "--port", str(port)], env, log)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}/healthz", log, "atelier serve (login on)")
        yield Server(f"http://127.0.0.1:{port}", server.standin_url, log)
    finally:
        _stop(proc)
        logs = ARTIFACTS / "server-logs"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, logs / log.name)
        shutil.rmtree(tmp, ignore_errors=True)


def sign_up(page: Page, email: str) -> None:
    signup = page.locator("#signup")
    signup.locator("input[name=email]").fill(email)
    signup.locator("input[name=password]").fill(PASSWORD)
    signup.locator("input[name=consent]").check()
    signup.locator("button[type=submit]").click()


def setup_link(server: Server) -> str:
    assert server.log is not None
    found = wait_until(lambda: re.search(r"/login\.html#setup=[A-Za-z0-9_-]+", server.log.read_text(errors="replace")),
                       10, "the setup link in the log")
    return found.group(0)


def test_setup_link_approval_invitation_and_keys(browser: Browser, auth_server: Server):
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    ctx = new_context(browser, auth_server)
    page = ctx.new_page()
    errors: list[str] = []
    watch_errors(page, errors)

    # A visitor is sent to sign in; the first one to sign up is NOT an admin, only pending.
    page.goto("/")
    page.wait_for_url("**/login.html**")
    page.screenshot(path=str(shots / "login-1280-light.png"), full_page=True)
    sign_up(page, "stranger@example.com")
    page.wait_for_url("**/account.html")
    expect(page.locator("#pending")).to_be_visible()
    expect(page.locator("#pending")).to_contain_text("waiting for an admin's approval")
    page.goto("/")
    page.wait_for_url("**/account.html")  # the studio sends a pending account back to that page
    page.locator("#logout").click()
    page.wait_for_url("**/login.html")

    # The setup link from the server's log makes the admin.
    page.goto(setup_link(auth_server))
    expect(page.locator("#signup-title")).to_have_text("Create the admin account")
    sign_up(page, "ada@example.com")
    page.wait_for_url(lambda url: "/login.html" not in url)
    expect(page.locator("#account-link")).to_have_text("ada@example.com")
    expect(page.locator("#admin-link")).to_be_visible()
    prompt = page.get_by_label("Describe the image")
    prompt.fill("a paper boat on a pond")
    prompt.press("Control+Enter")
    expect(page.locator("#panel-generate img[src*='/v1/images/']").first).to_be_visible(timeout=60_000)

    # Account page: a new API key needs the password and is shown once.
    page.goto("/account.html")
    page.locator("#new-key input[name=name]").fill("laptop")
    page.locator("#new-key button[type=submit]").click()
    expect(page.locator("#keys-status")).to_contain_text("password")
    page.locator("#confirm-password").fill(PASSWORD)
    page.locator("#new-key button[type=submit]").click()
    expect(page.locator("#new-key-secret")).to_contain_text("atl_")
    expect(page.locator("#keys tr")).to_have_count(1)
    expect(page.locator("#keys tr")).to_contain_text("generate, read")
    page.screenshot(path=str(shots / "account-1280-light.png"), full_page=True)

    # Admin page: approve the stranger, and make an invitation link.
    page.goto("/admin.html")
    expect(page.locator("#pending-users")).to_contain_text("stranger@example.com")
    page.get_by_role("button", name="Approve stranger@example.com").click()
    expect(page.locator("#no-pending")).to_be_visible()
    page.locator("#new-invite button[type=submit]").click()
    expect(page.locator("#invite-link")).to_contain_text("#invite=")
    link = re.search(r"/login\.html#invite=[A-Za-z0-9_-]+", page.locator("#invite-link").inner_text()).group(0)
    expect(page.locator("#users")).to_contain_text("ada@example.com")
    # Upstream keys by label (never the key), with the pacing form.
    expect(page.locator("#upstream-keys")).to_contain_text("default")
    expect(page.locator("#upstream-keys")).to_contain_text("Active")
    expect(page.locator("#upstream-banner")).to_be_hidden()
    page.screenshot(path=str(shots / "admin-1280-light.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(shots / "admin-375-light.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    ctx.close()
    assert not errors, f"uncaught page errors: {errors}"

    # The invited guest goes straight to the studio; the link works once.
    guest = new_context(browser, auth_server)
    page = guest.new_page()
    watch_errors(page, errors)
    page.goto(link)
    sign_up(page, "guest@example.com")
    page.wait_for_url(lambda url: "/login.html" not in url and "/account.html" not in url)
    expect(page.locator("#account-link")).to_have_text("guest@example.com")
    guest.close()
    assert not errors, f"uncaught page errors or CSP violations: {errors}"


@pytest.mark.parametrize("target", ["/%5Cevil.example", "//evil.example", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(browser: Browser, auth_server: Server, target: str):
    ctx = new_context(browser, auth_server)
    page = ctx.new_page()
    # The approved stranger from the test above, or a fresh sign-in attempt reported on the page.
    page.goto(f"/login.html?next={target}")
    signin = page.locator("#signin")
    signin.locator("input[name=email]").fill("ada@example.com")
    signin.locator("input[name=password]").fill(PASSWORD)
    signin.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/login.html" not in url)
    assert page.url.startswith(auth_server.base_url + "/"), page.url
    ctx.close()


def test_wrong_password_is_reported_then_signing_in_works(browser: Browser, auth_server: Server):
    ctx = new_context(browser, auth_server)
    page = ctx.new_page()
    page.goto("/login.html")
    signin = page.locator("#signin")
    signin.locator("input[name=email]").fill("ada@example.com")
    signin.locator("input[name=password]").fill("not the password")
    signin.locator("button[type=submit]").click()
    expect(page.locator("#signin-status")).to_have_text("Wrong email or password.")
    assert "/login.html" in page.url
    signin.locator("input[name=password]").fill(PASSWORD)
    signin.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/login.html" not in url)
    expect(page.locator("#account-link")).to_have_text("ada@example.com")
    ctx.close()
