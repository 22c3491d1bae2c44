// @ts-check
// My account → Webhooks: list endpoints, add one (its secret is shown once), delete, read the delivery log, resend.
import { ApiError, byId, call, el, say } from "./accountapi.js";

/** @typedef {{ id: string, url: string, events: string[], created_at: string, secret?: string }} Webhook */
/** @typedef {{ attempt: number, at: string, duration_ms: number, status_code: number | null, error: string | null }} Attempt */
/** @typedef {{ id: string, event_type: string, status: string, attempts: number, created_at: string,
 *   next_attempt_at: string | null, last_status: number | null, last_error: string | null, attempt_log: Attempt[] }} Delivery */

const hooksBody = byId("hooks", HTMLTableSectionElement);
const status = byId("hooks-status", HTMLElement);
const log = byId("hook-deliveries", HTMLElement);
const logBody = byId("deliveries", HTMLTableSectionElement);
const logTitle = byId("deliveries-title", HTMLElement);

/** @param {string | null} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

/** @param {unknown} error */
const message = (error) => (error instanceof ApiError ? error.message : "The server could not be reached.");

/** @param {string} text */
const button = (text, danger = false) =>
  el("button", { class: `btn ${danger ? "btn-danger-ghost" : "btn-ghost"} btn-small`, type: "button" }, text);

/**
 * What the receiver last answered, or why nothing was answered.
 * @param {Delivery} delivery
 */
function lastAnswer(delivery) {
  if (delivery.last_status !== null) return `HTTP ${delivery.last_status}`;
  return delivery.last_error ?? "—";
}

/** @param {Webhook} hook */
async function showDeliveries(hook) {
  /** @type {{ data: Delivery[] }} */
  const page = await call("GET", `/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`);
  logTitle.textContent = `Deliveries to ${hook.url}`;
  logBody.replaceChildren(...page.data.map((delivery) => {
    const resend = button("Resend");
    if (delivery.status === "pending") resend.setAttribute("disabled", "");
    resend.addEventListener("click", async () => {
      try {
        await call("POST", `/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(delivery.id)}/resend`);
        await showDeliveries(hook);
        say(status, "Queued to be sent again.");
      } catch (error) {
        say(status, message(error), true);
      }
    });
    const attempts = delivery.attempt_log.map((a) => `#${a.attempt} ${when(a.at)}: ${a.status_code ?? a.error ?? "—"}`).join("\n");
    const state = delivery.status === "pending" && delivery.next_attempt_at
      ? `pending (next ${when(delivery.next_attempt_at)})` : delivery.status;
    return el("tr", {}, el("td", {}, el("code", {}, delivery.event_type)), el("td", {}, state),
      el("td", { title: attempts }, String(delivery.attempts)), el("td", {}, lastAnswer(delivery)),
      el("td", {}, when(delivery.created_at)), el("td", {}, resend));
  }));
  if (page.data.length === 0) logBody.replaceChildren(el("tr", {}, el("td", { colspan: "6" }, "Nothing sent yet.")));
  log.hidden = false;
}

export async function loadWebhooks() {
  /** @type {{ data: Webhook[] }} */
  const page = await call("GET", "/v1/webhooks");
  hooksBody.replaceChildren(...page.data.map((hook) => {
    const deliveries = button("Deliveries");
    deliveries.setAttribute("aria-controls", "hook-deliveries");
    deliveries.addEventListener("click", () => showDeliveries(hook).catch((error) => say(status, message(error), true)));
    const remove = button("Delete", true);
    remove.setAttribute("aria-label", `Delete the endpoint ${hook.url}`);
    remove.addEventListener("click", async () => {
      try {
        await call("DELETE", `/v1/webhooks/${encodeURIComponent(hook.id)}`);
        log.hidden = true;
        await loadWebhooks();
      } catch (error) {
        say(status, message(error), true);
      }
    });
    return el("tr", {}, el("td", { class: "accounts-url" }, hook.url), el("td", {}, hook.events.join(", ")),
      el("td", {}, when(hook.created_at)), el("td", {}, deliveries, " ", remove));
  }));
  if (page.data.length === 0) hooksBody.replaceChildren(el("tr", {}, el("td", { colspan: "4" }, "No endpoints yet.")));
}

byId("new-hook", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const data = new FormData(form);
  const secret = byId("new-hook-secret", HTMLElement);
  try {
    /** @type {Webhook} */
    const hook = await call("POST", "/v1/webhooks", { url: String(data.get("url") ?? ""), events: data.getAll("events").map(String) });
    secret.textContent = `Signing secret for ${hook.url} (copy it now, it is not shown again): ${hook.secret ?? ""}`;
    secret.hidden = false;
    form.reset();
    say(status, "");
    await loadWebhooks();
  } catch (error) {
    say(status, message(error), true);
  }
});
