// @ts-check
// Admin: upstream OpenAI keys by label — a banner when one is stopped (out of quota, refused), the lanes paused
// for the rate limit, the pacing limits, and a Resume button.
import { byId, call, el, say } from "./accountapi.js";

/** @typedef {{ model: string, reason: string | null, wait_seconds: number, images_per_window: number | null,
 *   requests_per_window: number | null }} Lane */
/** @typedef {{ label: string, status: string, message: string | null, changed_at: string | null, lanes: Lane[],
 *   jobs_today: number, cost_today_usd: number }} UpstreamKey */
/** @typedef {{ key: string | null, model: string, images_per_window: number | null, requests_per_window: number | null,
 *   source: string }} Limit */
/** @typedef {{ keys: UpstreamKey[], limits: Limit[], window_seconds: number, max_wait_seconds: number }} Upstream */

const STATUS = /** @type {Record<string, string>} */ ({
  active: "Active", quota_exhausted: "Out of quota — stopped", refused: "Refused by OpenAI — stopped",
});

/** @param {Lane} lane */
function laneText(lane) {
  const limits = [lane.images_per_window && `${lane.images_per_window} images`, lane.requests_per_window && `${lane.requests_per_window} requests`]
    .filter(Boolean).join(", ");
  const wait = lane.wait_seconds > 0 ? ` — waiting ${Math.ceil(lane.wait_seconds)} s (${lane.reason})` : "";
  return `${lane.model}${limits ? `: ${limits} per window` : ""}${wait}`;
}

/**
 * Fills the "Upstream keys" section and the banner; `report` shows an error.
 * @param {(error: unknown) => void} report
 */
export async function loadUpstream(report) {
  /** @type {Upstream} */
  const upstream = await call("GET", "/v1/admin/upstream");
  showLimits(upstream, report);
  const stopped = upstream.keys.filter((key) => key.status !== "active");
  const banner = byId("upstream-banner", HTMLElement);
  banner.hidden = stopped.length === 0;
  say(banner, stopped.map((key) => `Upstream key ${key.label}: ${STATUS[key.status] || key.status}. ${key.message || ""}`).join(" "), true);
  byId("upstream-keys", HTMLTableSectionElement).replaceChildren(...upstream.keys.map((key) => {
    const lanes = el("ul", { class: "accounts-list" }, ...key.lanes.map((lane) => el("li", {}, laneText(lane))));
    const cell = el("td", {});
    if (key.status !== "active") {
      const resume = el("button", { class: "btn btn-small", type: "button" }, "Resume");
      resume.addEventListener("click", async () => {
        try {
          await call("POST", `/v1/admin/upstream/keys/${encodeURIComponent(key.label)}/resume`);
          await loadUpstream(report);
        } catch (error) {
          report(error);
        }
      });
      cell.append(resume);
    }
    return el("tr", {}, el("td", {}, key.label), el("td", {}, STATUS[key.status] || key.status, key.message ? el("br") : "",
      key.message || ""), el("td", {}, `${key.jobs_today} jobs, $${key.cost_today_usd.toFixed(2)}`), el("td", {}, lanes), cell);
  }));
}

/** @param {HTMLInputElement} input */
const countOrNull = (input) => (input.value.trim() === "" ? null : Number(input.value));

/**
 * The pacing rules (admin ones first; they win) and the form that sets one; both limits empty removes it.
 * @param {Upstream} upstream @param {(error: unknown) => void} report
 */
function showLimits(upstream, report) {
  byId("upstream-window", HTMLElement).textContent = String(upstream.window_seconds);
  byId("upstream-limits", HTMLElement).replaceChildren(...upstream.limits.map((rule) => el("li", {},
    `${rule.key ?? "every key"} / ${rule.model}: ${rule.images_per_window ?? "–"} images, ${rule.requests_per_window ?? "–"} requests (${rule.source})`)));
  const form = byId("upstream-limit", HTMLFormElement);
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  const select = /** @type {HTMLSelectElement} */ (form.elements.namedItem("key"));
  select.replaceChildren(el("option", { value: "" }, "every key"), ...upstream.keys.map((key) => el("option", { value: key.label }, key.label)));
  form.onsubmit = async (event) => {
    event.preventDefault();
    try {
      await call("PUT", "/v1/admin/upstream/limits", {
        key: select.value || null, model: field("model").value.trim(),
        images_per_window: countOrNull(field("images_per_window")), requests_per_window: countOrNull(field("requests_per_window")),
      });
      await loadUpstream(report);
    } catch (error) {
      report(error);
    }
  };
}
