"""Accounts in a real browser: with login on (the default), the studio sends a visitor to sign in; the first
account becomes admin; the studio's writes carry the CSRF token; the account and admin pages work."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from conftest import ARTIFACTS, REPO, Server, _start, _stop, _wait_ready, free_port, new_context


@pytest.fixture(scope="module")
def auth_server(server: Server):
    """A second `atelier serve` with login required, on the same stand-in."""
    binary = Path(os.environ.get("ATELIER_BIN", ".build/debug/atelier"))
    if not binary.is_absolute():
        binary = REPO / binary
    tmp = Path(tempfile.mkdtemp(prefix="atelier-auth-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATELIER_AUTH")}
    env.update(OPENAI_API_KEY="sk-test-browser", OPENAI_BASE_URL=f"{server.standin_url}/v1", DATA_DIR=str(tmp / "data"))
    log = tmp / "serve-auth.log"
    proc = _start([str(binary), "serve", "--hostname", "127.0.0.1", "--port", str(port)], env, log)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}/healthz", log, "atelier serve (login on)")
        yield Server(f"http://127.0.0.1:{port}", server.standin_url)
    finally:
        _stop(proc)
        logs = ARTIFACTS / "server-logs"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, logs / log.name)
        shutil.rmtree(tmp, ignore_errors=True)


def test_sign_up_generate_and_manage_keys(browser: Browser, auth_server: Server):
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    ctx = new_context(browser, auth_server)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # A visitor is sent to sign in.
    page.goto("/")
    page.wait_for_url("**/login.html**")
    page.screenshot(path=str(shots / "login-1280-light.png"), full_page=True)
    signup = page.locator("#signup")
    signup.locator("input[name=email]").fill("ada@example.com")
    signup.locator("input[name=password]").fill("correct horse battery")
    signup.locator("input[name=consent]").check()
    signup.locator("button[type=submit]").click()

    # Back in the studio, signed in as the first (admin) user; a generate goes through with the CSRF token.
    page.wait_for_url(lambda url: "/login.html" not in url)
    expect(page.locator("#account-link")).to_have_text("ada@example.com")
    expect(page.locator("#admin-link")).to_be_visible()
    prompt = page.get_by_label("Describe the image")
    prompt.fill("a paper boat on a pond")
    prompt.press("Control+Enter")
    expect(page.locator("#panel-generate img[src*='/v1/images/']").first).to_be_visible(timeout=60_000)

    # Account page: a new API key is shown once.
    page.goto("/account.html")
    page.locator("#new-key input").first.fill("laptop")
    page.locator("#new-key button[type=submit]").click()
    expect(page.locator("#new-key-secret")).to_contain_text("atl_")
    expect(page.locator("#keys tr")).to_have_count(1)
    page.screenshot(path=str(shots / "account-1280-light.png"), full_page=True)

    # Admin page: the signed-up user is listed.
    page.goto("/admin.html")
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

    # Signed out: a wrong password is reported on the login page (a 401 there must not loop back to login).
    ctx = new_context(browser, auth_server)
    page = ctx.new_page()
    page.goto("/login.html")
    signin = page.locator("#signin")
    signin.locator("input[name=email]").fill("ada@example.com")
    signin.locator("input[name=password]").fill("not the password")
    signin.locator("button[type=submit]").click()
    expect(page.locator("#signin-status")).to_have_text("Wrong email or password.")
    assert "/login.html" in page.url
    signin.locator("input[name=password]").fill("correct horse battery")
    signin.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/login.html" not in url)
    expect(page.locator("#account-link")).to_have_text("ada@example.com")
    ctx.close()
