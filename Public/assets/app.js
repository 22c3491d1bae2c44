// @ts-check
// Entry point: hash router (#/generate, #/edit, #/history, #/job/{id}), tablist keyboard support,
// offline banner.
import { loadModels, loadStatus } from "./state.js";
import { showDeprecations } from "./deprecations.js";
import { toast } from "./ui.js";
import { errorMessage } from "./api.js";
import * as generate from "./generate.js";
import * as edit from "./edit.js";
import * as history from "./history.js";
import * as detail from "./detail.js";

/**
 * @typedef {{ mount: (panel: HTMLElement) => Promise<void> | void, show: (arg: string, query: URLSearchParams) => void, hide?: () => void }} Screen
 */

/** @type {Record<string, { screen: Screen, panelId: string, tab: string, title: string }>} */
const routes = {
  generate: { screen: generate, panelId: "panel-generate", tab: "generate", title: "Generate" },
  edit: { screen: edit, panelId: "panel-edit", tab: "edit", title: "Edit" },
  history: { screen: history, panelId: "panel-history", tab: "history", title: "History" },
  job: { screen: detail, panelId: "panel-job", tab: "history", title: "Job" },
};

/** @type {Map<string, Promise<void>>} */
const mounted = new Map();
/** @type {string | null} */
let current = null;

const tabs = /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[role="tab"]')]);

/** @returns {{ name: string, arg: string, query: URLSearchParams }} */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] && routes[parts[0]] ? parts[0] : "generate";
  return { name, arg: decodeURIComponent(parts.slice(1).join("/")), query: new URLSearchParams(qs || "") };
}

async function route() {
  const { name, arg, query } = parseHash();
  const r = routes[name];
  const previous = current;
  if (previous && previous !== name) {
    const prev = routes[previous];
    prev.screen.hide?.();
    /** @type {HTMLElement} */ (document.getElementById(prev.panelId)).hidden = true;
  }
  current = name;
  for (const t of tabs) {
    const selected = t.dataset.route === r.tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
  }
  const panel = /** @type {HTMLElement} */ (document.getElementById(r.panelId));
  panel.hidden = false;
  document.body.dataset.route = name;
  document.title = `${r.title} · Atelier`;
  let ready = mounted.get(name);
  if (!ready) {
    panel.setAttribute("aria-busy", "true");
    ready = Promise.resolve(r.screen.mount(panel));
    mounted.set(name, ready);
  }
  try {
    await ready;
  } catch (e) {
    mounted.delete(name);
    panel.replaceChildren();
    const retry = document.createElement("button");
    retry.className = "btn";
    retry.type = "button";
    retry.textContent = "Try again";
    retry.addEventListener("click", () => void route());
    const p = document.createElement("p");
    p.textContent = `Could not load this screen: ${errorMessage(e)}`;
    const box = document.createElement("div");
    box.className = "empty";
    box.append(p, retry);
    panel.append(box);
    panel.removeAttribute("aria-busy");
    return;
  }
  panel.removeAttribute("aria-busy");
  if (current === name) r.screen.show(arg, query);
}

// Tablist: click activates; arrow keys / Home / End move and activate (automatic activation).
for (const t of tabs) {
  t.addEventListener("click", () => {
    location.hash = `#/${t.dataset.route}`;
  });
  t.addEventListener("keydown", (ev) => {
    const i = tabs.indexOf(t);
    let next = -1;
    if (ev.key === "ArrowRight") next = (i + 1) % tabs.length;
    else if (ev.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
    else if (ev.key === "Home") next = 0;
    else if (ev.key === "End") next = tabs.length - 1;
    if (next < 0) return;
    ev.preventDefault();
    tabs[next].focus();
    location.hash = `#/${tabs[next].dataset.route}`;
  });
}

window.addEventListener("hashchange", () => void route());

loadStatus()
  .then((s) => {
    const banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = !s.offline;
  })
  .catch((e) => toast(`Cannot read server status: ${errorMessage(e)}`));

/** Shows the account and admin links when someone is signed in. */
async function loadSession() {
  const res = await fetch("/v1/auth/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!res.ok) return;
  /** @type {{ authenticated?: boolean, login_required?: boolean, user?: { email?: string, role?: string, status?: string } | null }} */
  const session = await res.json();
  if (session.login_required && !session.authenticated) {
    location.assign(`/login.html?next=${encodeURIComponent(location.pathname + location.hash)}`);
    return;
  }
  if (session.user?.status === "pending") {
    location.assign("/account.html"); // it says the account waits for an admin's approval
    return;
  }
  const links = document.getElementById("account-links");
  const admin = document.getElementById("admin-link");
  const account = document.getElementById("account-link");
  if (!links || !admin || !account || !session.login_required || !session.user) return;
  links.hidden = false;
  account.textContent = session.user.email || "Account";
  admin.hidden = session.user.role !== "admin";
}

loadModels()
  .then((list) => {
    const banner = document.getElementById("deprecation-banner");
    if (banner) showDeprecations(banner, list.deprecations);
  })
  .catch(() => {});

void loadSession();
void route();
