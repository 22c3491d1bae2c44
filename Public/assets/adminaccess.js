// @ts-check
// Admin: sign-ups waiting for approval (approve or reject) and invitation links (single use, expiring).
import { ApiError, byId, call, el, say } from "./accountapi.js";

const status = byId("status", HTMLElement);

/** @param {unknown} error */
function report(error) {
  say(status, error instanceof ApiError ? error.message : "The server could not be reached.", true);
}

async function loadPending() {
  /** @type {{ data: { id: string, email: string, status: string, created_at: string }[] }} */
  const page = await call("GET", "/v1/admin/users");
  const waiting = page.data.filter((user) => user.status === "pending");
  byId("no-pending", HTMLElement).hidden = waiting.length > 0;
  byId("pending-users", HTMLUListElement).replaceChildren(...waiting.map((user) => {
    const approve = el("button", { class: "btn btn-primary btn-small", type: "button" }, "Approve");
    const reject = el("button", { class: "btn btn-danger-ghost btn-small", type: "button" }, "Reject");
    approve.setAttribute("aria-label", `Approve ${user.email}`);
    reject.setAttribute("aria-label", `Reject ${user.email}`);
    approve.addEventListener("click", () => decide(user.email, () => call("PATCH", `/v1/admin/users/${encodeURIComponent(user.id)}`, { status: "active" })));
    reject.addEventListener("click", () => decide(user.email, () => call("DELETE", `/v1/admin/users/${encodeURIComponent(user.id)}`)));
    return el("li", {}, `${user.email} (since ${new Date(user.created_at).toLocaleString()}) `, approve, " ", reject);
  }));
}

/**
 * @param {string} email
 * @param {() => Promise<unknown>} action
 */
async function decide(email, action) {
  try {
    await action();
    say(status, `Done: ${email}.`);
    document.dispatchEvent(new Event("users-changed"));
    await loadPending();
  } catch (error) {
    report(error);
  }
}

async function loadInvites() {
  /** @type {{ data: { id: string, expires_at: string }[] }} */
  const page = await call("GET", "/v1/admin/invites");
  say(byId("open-invites", HTMLElement), page.data.length
    ? `Open invitations: ${page.data.map((invite) => `until ${new Date(invite.expires_at).toLocaleString()}`).join("; ")}`
    : "No open invitations.");
}

byId("new-invite", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const hours = Number(new FormData(form).get("expires_in_hours") || 72);
  try {
    /** @type {{ link: string, expires_at: string }} */
    const invite = await call("POST", "/v1/admin/invites", { expires_in_hours: hours });
    const target = byId("invite-link", HTMLElement);
    target.textContent = `Send this link (shown once, works once, until ${new Date(invite.expires_at).toLocaleString()}): ${location.origin}${invite.link}`;
    target.hidden = false;
    await loadInvites();
  } catch (error) {
    report(error);
  }
});

/** Fills both sections. */
export function loadAccess() {
  return Promise.all([loadPending(), loadInvites()]);
}
