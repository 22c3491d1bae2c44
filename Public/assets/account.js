// @ts-check
// My account: API keys (create with scopes, list, revoke), webhooks (webhooks.js), MCP config (mcpconfig.js),
// export, delete, sign out — changes confirmed with the password. A pending account sees that it waits for an
// admin's approval. Password and sessions: accountsecurity.js.
import { ApiError, byId, call, el, say, session } from "./accountapi.js";
import { request } from "./api.js";
import { loadWebhooks } from "./webhooks.js";
import { rememberKey, setUpMCPConfig } from "./mcpconfig.js";
import "./accountsecurity.js";

/** @typedef {{ id: string, name: string, prefix: string, scopes: string[], created_at: string, last_used_at: string | null, revoked_at: string | null, key?: string }} ApiKey */

const keysBody = byId("keys", HTMLTableSectionElement);
const keysStatus = byId("keys-status", HTMLElement);
const confirmPassword = byId("confirm-password", HTMLInputElement);

/** @param {string | null} iso */
function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** @param {unknown} error */
function message(error) {
  return error instanceof ApiError ? error.message : "The server could not be reached.";
}

/** The password typed in "Confirm with your password", or a focused prompt to type it. */
function password() {
  if (!confirmPassword.value) {
    confirmPassword.focus();
    throw new ApiError(400, "password_required", "Type your password under “Confirm with your password” first.", "password");
  }
  return confirmPassword.value;
}

async function loadKeys() {
  /** @type {{ data: ApiKey[] }} */
  const page = await call("GET", "/v1/me/keys");
  keysBody.replaceChildren(...page.data.map((key) => {
    const revoke = el("button", { class: "btn btn-danger-ghost btn-small", type: "button" }, "Revoke");
    if (key.revoked_at) revoke.setAttribute("disabled", "");
    revoke.addEventListener("click", async () => {
      try {
        await call("DELETE", `/v1/me/keys/${encodeURIComponent(key.id)}`, { password: password() });
        await loadKeys();
      } catch (error) {
        say(keysStatus, message(error), true);
      }
    });
    return el("tr", {}, el("td", {}, key.name), el("td", {}, el("code", {}, `${key.prefix}…`), ` ${key.scopes.join(", ")}`),
      el("td", {}, when(key.created_at)), el("td", {}, key.revoked_at ? `revoked ${when(key.revoked_at)}` : when(key.last_used_at)),
      el("td", {}, revoke));
  }));
}

byId("new-key", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const secret = byId("new-key-secret", HTMLElement);
  const data = new FormData(form);
  try {
    /** @type {ApiKey} */
    const key = await call("POST", "/v1/me/keys", {
      name: String(data.get("name") ?? ""), scopes: data.getAll("scope").map(String), password: password(),
    });
    secret.textContent = `Your new key (copy it now, it is not shown again): ${key.key ?? ""}`;
    secret.hidden = false;
    if (key.key) rememberKey(key.key);
    form.reset();
    await loadKeys();
  } catch (error) {
    say(keysStatus, message(error), true);
  }
});

byId("export", HTMLButtonElement).addEventListener("click", async () => {
  const status = byId("delete-status", HTMLElement);
  try {
    /** @type {Blob} */
    const archive = await request("POST", "/v1/me/export", { json: { password: password() }, expect: "blob", onUnauthorized: "throw" });
    const link = el("a", { href: URL.createObjectURL(archive), download: "atelier-export.zip" });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.getAttribute("href") ?? ""), 60_000);
  } catch (error) {
    say(status, message(error), true);
  }
});

byId("delete-account", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = byId("delete-status", HTMLElement);
  const current = await session();
  const typed = String(new FormData(/** @type {HTMLFormElement} */ (event.currentTarget)).get("confirm") ?? "");
  if (!current.user || typed.trim().toLowerCase() !== current.user.email) {
    say(status, "Type your account's email exactly to confirm.", true);
    return;
  }
  try {
    await call("DELETE", "/v1/me", { password: password() });
    location.assign("/login.html");
  } catch (error) {
    say(status, message(error), true);
  }
});

byId("logout", HTMLButtonElement).addEventListener("click", async () => {
  await call("POST", "/v1/auth/logout").catch(() => null);
  location.assign("/login.html");
});

session().then(async (current) => {
  if (!current.authenticated) {
    location.assign(`/login.html?next=${encodeURIComponent("/account.html")}`);
    return;
  }
  const who = byId("who", HTMLElement);
  loadWebhooks().catch((error) => say(byId("hooks-status", HTMLElement), message(error), true));
  setUpMCPConfig({ local: !current.user });
  if (!current.user) {
    say(who, "Login is switched off (local mode): there is no account to manage.");
    return;
  }
  say(who, `${current.user.email} · ${current.user.role}${current.user.verified ? " · verified" : ""}`);
  byId("admin-link", HTMLAnchorElement).hidden = current.user.role !== "admin";
  for (const label of document.querySelectorAll(".admin-scope")) {
    if (label instanceof HTMLElement) label.hidden = current.user.role !== "admin";
  }
  if (current.user.status === "pending") {
    byId("pending", HTMLElement).hidden = false;
    byId("keys-section", HTMLElement).hidden = true;
    return;
  }
  await loadKeys();
}).catch((error) => say(keysStatus, message(error), true));
